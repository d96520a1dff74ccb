import {
  Alert,
  Checkbox,
  Descriptions,
  Flex,
  Select,
  Statistic,
  Table,
  Tag,
  Typography,
} from "antd";
import { useTranslation } from "react-i18next";
import type {
  DuplicateLine,
  ImportChoices,
  ImportPreviewView,
  InvalidLine,
  SampleRow,
} from "../../api/audience";

/** One row's values named by their columns: `姓名=张三, 订单号=SO-1`. */
export function namedValues(variables: string[], values: string[]): string {
  return variables.map((name, i) => `${name}=${values[i] ?? ""}`).join(", ");
}

/** Every column of the file in order: the openid column back in its place among the variables. */
export function allColumns(
  p: Pick<ImportPreviewView, "openid_column" | "openid_column_index" | "variables">,
): string[] {
  const cols = [...p.variables];
  cols.splice(
    Math.min(p.openid_column_index, cols.length),
    0,
    p.openid_column || `#${p.openid_column_index + 1}`,
  );
  return cols;
}

/**
 * The repeated openids whose other values differ, each with the row kept and the row dropped:
 * the same table for a file import and for the unionid bridge. Nothing when there are none.
 */
export function ConflictsTable({
  variables,
  count,
  rows,
  testid,
}: {
  variables: string[];
  count: number;
  rows: DuplicateLine[];
  testid: string;
}) {
  const { t } = useTranslation();
  if (count === 0) return null;
  return (
    <div>
      <Typography.Text strong>{t("audience.preview.conflictsTitle", { count })}</Typography.Text>
      {rows.length < count && (
        <Typography.Text type="secondary">
          {"  "}
          {t("audience.preview.more", { shown: rows.length, count })}
        </Typography.Text>
      )}
      <Table<DuplicateLine>
        data-testid={testid}
        size="small"
        rowKey={(r) => `${r.openid}:${r.dropped_line}`}
        pagination={rows.length > 5 ? { pageSize: 5, size: "small" } : false}
        dataSource={rows}
        scroll={{ x: "max-content" }}
        columns={[
          {
            title: "openid",
            dataIndex: "openid",
            width: 240,
            render: (v: string) => <Typography.Text code>{v}</Typography.Text>,
          },
          {
            title: t("audience.preview.kept"),
            key: "kept",
            render: (_: unknown, r) =>
              t("audience.preview.rowValues", {
                line: r.kept_line,
                values: namedValues(variables, r.kept_values),
              }),
          },
          {
            title: t("audience.preview.dropped"),
            key: "dropped",
            render: (_: unknown, r) => (
              <Typography.Text type="secondary">
                {t("audience.preview.rowValues", {
                  line: r.dropped_line,
                  values: namedValues(variables, r.dropped_values),
                })}
              </Typography.Text>
            ),
          },
        ]}
      />
    </div>
  );
}

/** Sample rows as a table: openid, then one column per variable. */
export function SampleTable({
  variables,
  rows,
  testid,
}: {
  variables: string[];
  rows: SampleRow[];
  testid?: string;
}) {
  return (
    <Table<SampleRow & { i: number }>
      data-testid={testid}
      size="small"
      rowKey="i"
      pagination={false}
      dataSource={rows.map((r, i) => ({ ...r, i }))}
      scroll={{ x: "max-content" }}
      columns={[
        {
          title: "openid",
          dataIndex: "openid",
          width: 260,
          render: (v: string) => <Typography.Text code>{v}</Typography.Text>,
        },
        ...variables.map((name, col) => ({
          title: name,
          key: `v${col}`,
          ellipsis: true,
          width: 140,
          render: (_: unknown, r: SampleRow) => r.values[col] ?? "",
        })),
      ]}
    />
  );
}

/**
 * What an import would save: the counts, the problems with their reasons, the first rows. With
 * `onChoose`, the detected openid column and header row can be corrected (the preview reruns).
 */
export function ImportPreview({
  preview,
  onChoose,
}: {
  preview: ImportPreviewView;
  onChoose?: (choices: ImportChoices) => void;
}) {
  const { t } = useTranslation();
  const p = preview;
  return (
    <Flex vertical gap={12} data-testid="import-preview">
      <Flex gap={32} wrap>
        <Statistic
          title={t("audience.preview.rows")}
          value={p.rows_read}
          data-testid="preview-rows"
        />
        <Statistic
          title={t("audience.preview.valid")}
          value={p.valid}
          styles={{ content: { color: "#389e0d" } }}
          data-testid="preview-valid"
        />
        <Statistic
          title={t("audience.preview.invalid")}
          value={p.invalid_count}
          styles={{ content: p.invalid_count ? { color: "#cf1322" } : undefined }}
          data-testid="preview-invalid"
        />
        <Statistic
          title={t("audience.preview.duplicates")}
          value={p.duplicates_removed}
          data-testid="preview-duplicates"
        />
        <Statistic
          title={t("audience.preview.notFollowing")}
          value={p.following_checked ? p.not_following_count : "—"}
          styles={{ content: p.not_following_count ? { color: "#d46b08" } : undefined }}
          data-testid="preview-not-following"
        />
      </Flex>
      <Descriptions size="small" column={2} bordered>
        <Descriptions.Item label={t("audience.preview.format")}>
          {t(`audience.preview.formats.${p.format}`)}
        </Descriptions.Item>
        <Descriptions.Item label={t("audience.preview.openidColumn")}>
          {onChoose ? (
            <Flex gap={12} align="center" wrap>
              <Select<number>
                size="small"
                style={{ minWidth: 160 }}
                value={p.openid_column_index}
                data-testid="preview-openid-column"
                aria-label={t("audience.preview.openidColumn")}
                options={allColumns(p).map((name, i) => ({
                  value: i,
                  label: `${i + 1}. ${name}`,
                }))}
                onChange={(col) => onChoose({ openid_column: col, has_header: p.has_header })}
              />
              <Checkbox
                checked={p.has_header}
                data-testid="preview-has-header"
                onChange={(e) =>
                  onChoose({ openid_column: p.openid_column_index, has_header: e.target.checked })
                }
              >
                {t("audience.preview.header")}
              </Checkbox>
            </Flex>
          ) : (
            <>
              {p.openid_column || `#${p.openid_column_index + 1}`}
              {p.has_header ? `（${t("audience.preview.header")}）` : ""}
            </>
          )}
        </Descriptions.Item>
        <Descriptions.Item label={t("audience.preview.variables")} span={2}>
          {p.variables.length ? (
            <Flex wrap gap={4} data-testid="preview-variables">
              {p.variables.map((v) => (
                <Tag key={v}>{v}</Tag>
              ))}
            </Flex>
          ) : (
            <Typography.Text type="secondary">{t("audience.preview.noVariables")}</Typography.Text>
          )}
        </Descriptions.Item>
      </Descriptions>
      {!p.following_checked && (
        <Alert type="info" showIcon title={t("audience.preview.notChecked")} />
      )}
      {p.following_checked && p.not_following_count > 0 && (
        <Alert
          type="warning"
          showIcon
          data-testid="preview-not-following-warn"
          title={t("audience.preview.notFollowingWarn", { count: p.not_following_count })}
          description={
            <Typography.Paragraph
              ellipsis={{ rows: 2, expandable: true, symbol: "…" }}
              style={{ margin: 0, fontFamily: "monospace", fontSize: 12 }}
            >
              {p.not_following.join("  ")}
            </Typography.Paragraph>
          }
        />
      )}
      {p.invalid_count > 0 && (
        <div>
          <Typography.Text strong>{t("audience.preview.invalidTitle")}</Typography.Text>
          {p.invalid.length < p.invalid_count && (
            <Typography.Text type="secondary">
              {"  "}
              {t("audience.preview.more", { shown: p.invalid.length, count: p.invalid_count })}
            </Typography.Text>
          )}
          <Table<InvalidLine>
            data-testid="preview-invalid-rows"
            size="small"
            rowKey={(r) => `${r.line}:${r.value}`}
            pagination={p.invalid.length > 5 ? { pageSize: 5, size: "small" } : false}
            dataSource={p.invalid}
            columns={[
              { title: t("audience.preview.line"), dataIndex: "line", width: 70 },
              {
                title: t("audience.preview.value"),
                dataIndex: "value",
                width: 240,
                ellipsis: true,
              },
              {
                title: t("audience.preview.reason"),
                key: "reason",
                render: (_: unknown, r) =>
                  t(`audience.preview.problem.${r.problem}`, { len: r.length, expected: 28 }),
              },
            ]}
          />
        </div>
      )}
      <ConflictsTable
        variables={p.variables}
        count={p.conflicting_count}
        rows={p.conflicting}
        testid="preview-conflicts"
      />
      {p.sample.length > 0 && (
        <div>
          <Typography.Text strong>{t("audience.preview.sample")}</Typography.Text>
          <SampleTable variables={p.variables} rows={p.sample} testid="preview-sample" />
        </div>
      )}
    </Flex>
  );
}
