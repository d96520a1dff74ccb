import { Tooltip, Typography } from "antd";

/**
 * A name where staff look for one, with the id it stands for on hover, copyable there (the id
 * is what support, logs and WeChat's own pages use); the id alone when there is no name. A long
 * name is cut by CSS only, so the whole name stays in the page.
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
    <Tooltip
      title={
        <Typography.Text copyable={{ text: id }} style={{ color: "inherit" }}>
          {id}
        </Typography.Text>
      }
    >
      <span
        data-testid={testid}
        data-id={id}
        style={{
          minWidth: 0,
          overflow: "hidden",
          textOverflow: "ellipsis",
          whiteSpace: "nowrap",
        }}
      >
        {name ?? id}
      </span>
    </Tooltip>
  );
}
