import { Tooltip, Typography } from "antd";

/**
 * A name where staff look for one, with the id it stands for on hover and a copy button (the id
 * is what support, logs and WeChat's own pages use); the id alone when there is no name.
 */
export function NamedId({
  name,
  id,
  testid,
}: {
  name: string | null;
  id: string;
  testid?: string;
}) {
  return (
    <Tooltip title={id}>
      <Typography.Text
        data-testid={testid}
        data-id={id}
        ellipsis
        copyable={{ text: id }}
        style={{ minWidth: 0 }}
      >
        {name ?? id}
      </Typography.Text>
    </Tooltip>
  );
}
