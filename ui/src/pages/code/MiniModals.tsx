// The dialogs of one mini program's row: the 体验版 QR code, 提交审核 (a page and a category
// from WeChat's lists), and 版本回退 (to a version WeChat keeps, after a confirmation).
import {
  Alert,
  App,
  Button,
  Empty,
  Flex,
  Form,
  Image,
  Input,
  Modal,
  Radio,
  Select,
  Skeleton,
  Typography,
} from "antd";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import {
  type Category,
  type Mini,
  useCategories,
  useHistoryVersions,
  usePages,
  useRollback,
  useSubmitAudit,
  useTrialQr,
} from "../../api/code";
import { CodeErrorAlert, fmtTime } from "./labels";

function categoryLabel(c: Category): string {
  return [c.first_class, c.second_class, c.third_class].filter(Boolean).join(" › ");
}

export function QrModal({ mini, onClose }: { mini: Mini | null; onClose: () => void }) {
  const { t } = useTranslation();
  const [path, setPath] = useState("");
  const [asked, setAsked] = useState<string | null>(null);
  const qr = useTrialQr(mini?.appid ?? "", asked || null, mini !== null);
  useEffect(() => {
    if (mini) {
      setPath("");
      setAsked(null);
    }
  }, [mini]);
  return (
    <Modal
      open={mini !== null}
      title={t("code.qr.title", { name: mini?.nickname || mini?.appid })}
      onCancel={onClose}
      footer={null}
      destroyOnHidden
    >
      <Flex vertical align="center" gap={12} data-testid="qr-modal">
        {qr.isPending && <Skeleton.Image active style={{ width: 240, height: 240 }} />}
        {qr.error && <CodeErrorAlert error={qr.error} />}
        {qr.data && (
          <Image src={qr.data} width={240} alt={t("code.qr.alt")} data-testid="qr-image" />
        )}
        <Typography.Text type="secondary">{t("code.qr.help")}</Typography.Text>
        <Flex gap={8} style={{ width: "100%" }}>
          <Input
            placeholder={t("code.qr.pathPlaceholder")}
            value={path}
            onChange={(e) => setPath(e.target.value)}
          />
          <Button onClick={() => setAsked(path.trim())}>{t("code.qr.refresh")}</Button>
        </Flex>
      </Flex>
    </Modal>
  );
}

export function AuditModal({ mini, onClose }: { mini: Mini | null; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const appid = mini?.appid ?? "";
  const open = mini !== null;
  const categories = useCategories(appid, open);
  const pages = usePages(appid, open);
  const submit = useSubmitAudit(appid);
  const [page, setPage] = useState<string | undefined>();
  const [category, setCategory] = useState<number | undefined>();
  const [title, setTitle] = useState("");
  const [tag, setTag] = useState("");
  const [desc, setDesc] = useState("");
  useEffect(() => {
    if (!mini) return;
    setPage(undefined);
    setCategory(undefined);
    setTitle("");
    setTag("");
    setDesc("");
    submit.reset();
  }, [mini, submit.reset]);
  // WeChat's first page and first category are what most clients submit.
  useEffect(() => {
    if (page === undefined && pages.data?.[0]) setPage(pages.data[0]);
  }, [pages.data, page]);
  useEffect(() => {
    if (category === undefined && categories.data?.length) setCategory(0);
  }, [categories.data, category]);

  const ok = () => {
    const chosen = category === undefined ? null : (categories.data?.[category] ?? null);
    submit.mutate(
      {
        items:
          page || chosen
            ? [{ address: page ?? "", title: title.trim(), tag: tag.trim(), category: chosen }]
            : [],
        version_desc: desc.trim(),
        privacy_api_not_use: null,
      },
      {
        onSuccess: (auditid) => {
          message.success(t("code.audit.done", { auditid }));
          onClose();
        },
      },
    );
  };

  return (
    <Modal
      open={open}
      title={t("code.audit.title", { name: mini?.nickname || appid })}
      onCancel={onClose}
      onOk={ok}
      okText={t("code.audit.ok")}
      cancelText={t("code.cancel")}
      okButtonProps={{ loading: submit.isPending, id: "audit-ok" }}
      width={600}
      destroyOnHidden
    >
      {(categories.error || pages.error) && (
        <CodeErrorAlert error={categories.error ?? pages.error} />
      )}
      <Form layout="vertical" requiredMark={false} style={{ marginTop: 8 }}>
        <Form.Item label={t("code.audit.page")} extra={t("code.audit.pageHelp")}>
          <Select
            data-testid="audit-page"
            value={page}
            onChange={setPage}
            loading={pages.isPending}
            allowClear
            options={(pages.data ?? []).map((p) => ({ value: p, label: p }))}
          />
        </Form.Item>
        <Form.Item label={t("code.audit.category")}>
          <Select
            data-testid="audit-category"
            value={category}
            onChange={setCategory}
            loading={categories.isPending}
            allowClear
            options={(categories.data ?? []).map((c, i) => ({ value: i, label: categoryLabel(c) }))}
            notFoundContent={t("code.audit.noCategory")}
          />
        </Form.Item>
        <Flex gap={12}>
          <Form.Item label={t("code.audit.pageTitle")} style={{ flex: 1 }}>
            <Input value={title} maxLength={32} onChange={(e) => setTitle(e.target.value)} />
          </Form.Item>
          <Form.Item label={t("code.audit.tags")} style={{ flex: 1 }}>
            <Input value={tag} onChange={(e) => setTag(e.target.value)} />
          </Form.Item>
        </Flex>
        <Form.Item label={t("code.audit.versionDesc")}>
          <Input.TextArea rows={2} value={desc} onChange={(e) => setDesc(e.target.value)} />
        </Form.Item>
      </Form>
      <Alert type="info" showIcon title={t("code.audit.note")} />
      {submit.error && (
        <div style={{ marginTop: 12 }}>
          <CodeErrorAlert error={submit.error} />
        </div>
      )}
    </Modal>
  );
}

export function RollbackModal({ mini, onClose }: { mini: Mini | null; onClose: () => void }) {
  const { t } = useTranslation();
  const { message, modal } = App.useApp();
  const appid = mini?.appid ?? "";
  const open = mini !== null;
  const history = useHistoryVersions(appid, open);
  const rollback = useRollback(appid);
  // 0: the previous online version (WeChat's default); else an app_version.
  const [choice, setChoice] = useState(0);
  useEffect(() => {
    if (mini) setChoice(0);
  }, [mini]);
  const versions = history.data ?? [];
  const chosen = versions.find((v) => v.app_version === choice);

  const ok = () =>
    modal.confirm({
      title: t("code.rollback.confirmTitle"),
      content: chosen
        ? t("code.rollback.confirmTo", { version: chosen.user_version })
        : t("code.rollback.confirmPrevious"),
      okText: t("code.rollback.ok"),
      cancelText: t("code.cancel"),
      okButtonProps: { danger: true, id: "rollback-confirm" },
      onOk: () =>
        rollback.mutateAsync(choice === 0 ? null : choice).then(() => {
          message.success(t("code.rollback.done"));
          onClose();
        }),
    });

  return (
    <Modal
      open={open}
      title={t("code.rollback.title", { name: mini?.nickname || appid })}
      onCancel={onClose}
      onOk={ok}
      okText={t("code.rollback.next")}
      cancelText={t("code.cancel")}
      okButtonProps={{ danger: true, id: "rollback-ok" }}
      destroyOnHidden
    >
      <Typography.Paragraph type="secondary">{t("code.rollback.help")}</Typography.Paragraph>
      {history.isPending && <Skeleton active />}
      {history.error && <CodeErrorAlert error={history.error} />}
      {history.data && (
        <Radio.Group
          value={choice}
          onChange={(e) => setChoice(e.target.value)}
          style={{ display: "flex", flexDirection: "column", gap: 8 }}
        >
          <Radio value={0}>{t("code.rollback.previous")}</Radio>
          {versions.map((v) => (
            <Radio key={v.app_version} value={v.app_version}>
              {v.user_version}
              <Typography.Text type="secondary">
                {" "}
                · {v.user_desc || "—"} · {fmtTime(v.commit_time)}
              </Typography.Text>
            </Radio>
          ))}
          {versions.length === 0 && (
            <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("code.rollback.none")} />
          )}
        </Radio.Group>
      )}
      {rollback.error && (
        <div style={{ marginTop: 12 }}>
          <CodeErrorAlert error={rollback.error} />
        </div>
      )}
    </Modal>
  );
}
