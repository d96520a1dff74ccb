// 部署指南: the relay's deployment guide (docs/deploy/README.md, in both languages), bundled with
// the app and shown in a drawer beside the settings it explains.
import { Button, Drawer, Skeleton, Typography } from "antd";
import { type ReactNode, useState } from "react";
import { useTranslation } from "react-i18next";
import { useDeployGuide } from "../../api/shell";

/** A block of the guide: a heading, a fenced code block (tables too: kept as written), or text. */
type Block =
  | { kind: "heading"; level: 1 | 2 | 3; text: string }
  | { kind: "code"; text: string }
  | { kind: "text"; text: string };

/** Splits the guide's Markdown into the few kinds of block it uses. */
export function guideBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split("\n");
  let text: string[] = [];
  let table: string[] = [];
  const flush = () => {
    if (text.length) blocks.push({ kind: "text", text: text.join(" ") });
    if (table.length) blocks.push({ kind: "code", text: table.join("\n") });
    text = [];
    table = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const heading = /^(#{1,3})\s+(.*)$/.exec(line);
    if (line.startsWith("```")) {
      flush();
      const code: string[] = [];
      for (i++; i < lines.length && !(lines[i] ?? "").startsWith("```"); i++) {
        code.push(lines[i] ?? "");
      }
      blocks.push({ kind: "code", text: code.join("\n") });
    } else if (heading) {
      flush();
      const level = (heading[1]?.length ?? 1) as 1 | 2 | 3;
      blocks.push({ kind: "heading", level, text: heading[2] ?? "" });
    } else if (line.startsWith("|")) {
      if (text.length) flush();
      table.push(line);
    } else if (line.trim() === "") {
      flush();
    } else {
      if (table.length) flush();
      text.push(line.trim());
    }
  }
  flush();
  return blocks;
}

/** Inline `code` as code, the rest as written. */
function inline(text: string): ReactNode[] {
  return text.split(/(`[^`]+`)/).map((part, i) =>
    part.startsWith("`") && part.endsWith("`") && part.length > 1 ? (
      // biome-ignore lint/suspicious/noArrayIndexKey: the parts of one fixed string
      <Typography.Text key={i} code>
        {part.slice(1, -1)}
      </Typography.Text>
    ) : (
      part
    ),
  );
}

function Guide({ markdown }: { markdown: string }) {
  return (
    <Typography data-testid="deploy-guide">
      {guideBlocks(markdown).map((b, i) => {
        const key = `${i}-${b.kind}`;
        switch (b.kind) {
          case "heading":
            return (
              <Typography.Title key={key} level={(b.level + 2) as 3 | 4 | 5}>
                {b.text}
              </Typography.Title>
            );
          case "code":
            return (
              <pre key={key} style={{ overflowX: "auto", fontSize: 12 }}>
                {b.text}
              </pre>
            );
          default:
            return <Typography.Paragraph key={key}>{inline(b.text)}</Typography.Paragraph>;
        }
      })}
    </Typography>
  );
}

/** A link that opens the guide in a drawer. */
export function DeployGuideLink() {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  const guide = useDeployGuide(open);
  return (
    <>
      <Button
        type="link"
        size="small"
        style={{ padding: 0 }}
        data-testid="open-deploy-guide"
        onClick={() => setOpen(true)}
      >
        {t("shell.settings.help.guide")}
      </Button>
      <Drawer
        title={t("shell.settings.help.guide")}
        open={open}
        onClose={() => setOpen(false)}
        size={720}
        destroyOnHidden
      >
        {guide.data ? <Guide markdown={guide.data} /> : <Skeleton active />}
      </Drawer>
    </>
  );
}
