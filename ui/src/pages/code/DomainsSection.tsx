// 域名 in a mini program's drawer: its six 服务器域名 lists and its 业务域名, each read from WeChat
// and overwritten with `set` from a form that checks every value's scheme first. What WeChat
// filters out of a save (not registered on the platform) is named, with where to register it.
import { EditOutlined, PlusOutlined } from "@ant-design/icons";
import {
  Alert,
  App,
  Button,
  Descriptions,
  Flex,
  Form,
  Modal,
  Select,
  Skeleton,
  Tag,
  Typography,
} from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import {
  type ServerLists,
  useChangeWebviewDomains,
  useServerDomains,
  useSetServerDomains,
  useWebviewDomains,
} from "../../api/code";
import { badDomains, SERVER_LISTS, tidy, WEBVIEW_SCHEME } from "./domains";
import { CodeErrorAlert } from "./labels";

const SEPARATORS = [",", " ", "\n", "，", ";", "；"];

function DomainTags({ list, testid }: { list: readonly string[]; testid: string }) {
  const { t } = useTranslation();
  if (list.length === 0)
    return (
      <Typography.Text type="secondary" data-testid={testid}>
        {t("code.domains.none")}
      </Typography.Text>
    );
  return (
    <Flex wrap gap={4} data-testid={testid}>
      {list.map((d) => (
        <Tag key={d} style={{ marginInlineEnd: 0 }}>
          {d}
        </Tag>
      ))}
    </Flex>
  );
}

function SectionHead({ title, children }: { title: string; children?: React.ReactNode }) {
  return (
    <Flex justify="space-between" align="center" gap={8} wrap>
      <Typography.Title level={5} style={{ margin: 0 }}>
        {title}
      </Typography.Title>
      <Flex gap={8}>{children}</Flex>
    </Flex>
  );
}

/** A tags field whose every value must be `scheme` + a host. */
function DomainField({ name, label, scheme }: { name: string; label: string; scheme: string }) {
  const { t } = useTranslation();
  return (
    <Form.Item
      name={name}
      label={label}
      normalize={(v: string[]) => tidy(v)}
      rules={[
        {
          validator: (_, v: string[] = []) => {
            const bad = badDomains(v, scheme);
            return bad.length === 0
              ? Promise.resolve()
              : Promise.reject(
                  new Error(t("code.domains.badScheme", { bad: bad.join(", "), scheme })),
                );
          },
        },
      ]}
    >
      <Select
        mode="tags"
        suffixIcon={null}
        notFoundContent={null}
        tokenSeparators={SEPARATORS}
        placeholder={t("code.domains.placeholder", { example: `${scheme}example.com` })}
        data-testid={`domains-field-${name}`}
      />
    </Form.Item>
  );
}

// The two dialogs are mounted only while open: each opening starts from the lists as they are
// now, with a fresh form and no error left from the last time.
function ServerDomainsModal({
  appid,
  lists,
  onClose,
  onSaved,
}: {
  appid: string;
  lists: ServerLists;
  onClose: () => void;
  onSaved: (invalid: string[]) => void;
}) {
  const { t } = useTranslation();
  const [form] = Form.useForm<ServerLists>();
  const save = useSetServerDomains(appid);
  const submit = async () => {
    const v = await form.validateFields();
    const d = await save.mutateAsync({
      requestdomain: v.requestdomain ?? [],
      wsrequestdomain: v.wsrequestdomain ?? [],
      uploaddomain: v.uploaddomain ?? [],
      downloaddomain: v.downloaddomain ?? [],
      udpdomain: v.udpdomain ?? [],
      tcpdomain: v.tcpdomain ?? [],
    });
    onSaved(d.invalid);
  };
  return (
    <Modal
      open
      title={t("code.domains.editServer")}
      onCancel={onClose}
      onOk={() => submit().catch(() => undefined)}
      okText={t("code.domains.save")}
      cancelText={t("code.cancel")}
      okButtonProps={{ loading: save.isPending, id: "domains-save" }}
      width={560}
    >
      <Form form={form} layout="vertical" initialValues={lists} data-testid="domains-form">
        <Typography.Paragraph type="secondary">{t("code.domains.formHelp")}</Typography.Paragraph>
        {SERVER_LISTS.map(({ key, scheme }) => (
          <DomainField key={key} name={key} label={t(`code.domains.list.${key}`)} scheme={scheme} />
        ))}
      </Form>
      {save.error && <CodeErrorAlert error={save.error} />}
    </Modal>
  );
}

function WebviewModal({
  appid,
  list,
  onClose,
}: {
  appid: string;
  list: string[];
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [form] = Form.useForm<{ webview: string[] }>();
  const change = useChangeWebviewDomains(appid);
  const submit = async () => {
    const v = await form.validateFields();
    await change.mutateAsync({ op: "set", domains: v.webview ?? [] });
    message.success(t("code.domains.webviewSaved"));
    onClose();
  };
  return (
    <Modal
      open
      title={t("code.domains.editWebview")}
      onCancel={onClose}
      onOk={() => submit().catch(() => undefined)}
      okText={t("code.domains.save")}
      cancelText={t("code.cancel")}
      okButtonProps={{ loading: change.isPending, id: "webview-save" }}
    >
      <Form form={form} layout="vertical" initialValues={{ webview: list }}>
        <Typography.Paragraph type="secondary">
          {t("code.domains.webviewHelp")}
        </Typography.Paragraph>
        <DomainField name="webview" label={t("code.domains.webview")} scheme={WEBVIEW_SCHEME} />
      </Form>
      {change.error && <CodeErrorAlert error={change.error} />}
    </Modal>
  );
}

function ServerDomainsPart({ appid }: { appid: string }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const q = useServerDomains(appid);
  const [editing, setEditing] = useState(false);
  const [invalid, setInvalid] = useState<string[]>([]);
  const empty = q.data && SERVER_LISTS.every(({ key }) => q.data[key].length === 0);
  return (
    <Flex vertical gap={8} data-testid="server-domains">
      <SectionHead title={t("code.domains.server")}>
        <Button
          size="small"
          icon={<EditOutlined />}
          disabled={!q.data}
          onClick={() => setEditing(true)}
          data-testid="domains-edit"
        >
          {t("code.domains.edit")}
        </Button>
      </SectionHead>
      <Typography.Text type="secondary" style={{ fontSize: 12 }} data-testid="domains-limits">
        {t("code.domains.limits")}
      </Typography.Text>
      {invalid.length > 0 && (
        <Alert
          type="warning"
          showIcon
          closable={{ onClose: () => setInvalid([]) }}
          data-testid="domains-invalid"
          title={t("code.domains.invalidTitle", { n: invalid.length })}
          description={
            <Flex vertical gap={6}>
              <DomainTags list={invalid} testid="domains-invalid-list" />
              <Typography.Text>{t("code.domains.invalidHelp")}</Typography.Text>
            </Flex>
          }
        />
      )}
      {q.isPending && <Skeleton active paragraph={{ rows: 4 }} />}
      {q.error && <CodeErrorAlert error={q.error} />}
      {q.data && (
        <>
          {empty && <Typography.Text type="secondary">{t("code.domains.empty")}</Typography.Text>}
          <Descriptions column={1} size="small" bordered styles={{ label: { width: 190 } }}>
            {SERVER_LISTS.map(({ key }) => (
              <Descriptions.Item key={key} label={t(`code.domains.list.${key}`)}>
                <DomainTags list={q.data[key]} testid={`domains-${key}`} />
              </Descriptions.Item>
            ))}
          </Descriptions>
          {editing && (
            <ServerDomainsModal
              appid={appid}
              lists={q.data}
              onClose={() => setEditing(false)}
              onSaved={(bad) => {
                setInvalid(bad);
                setEditing(false);
                message.success(t("code.domains.saved"));
              }}
            />
          )}
        </>
      )}
    </Flex>
  );
}

function WebviewPart({ appid }: { appid: string }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const q = useWebviewDomains(appid);
  const addAll = useChangeWebviewDomains(appid);
  const [editing, setEditing] = useState(false);
  return (
    <Flex vertical gap={8} data-testid="webview-domains">
      <SectionHead title={t("code.domains.webview")}>
        <Button
          size="small"
          icon={<PlusOutlined />}
          loading={addAll.isPending}
          disabled={q.isPending}
          onClick={() =>
            addAll
              .mutateAsync({ op: null, domains: [] })
              .then(() => message.success(t("code.domains.webviewAllDone")))
              .catch(() => undefined)
          }
          data-testid="webview-add-all"
        >
          {t("code.domains.webviewAll")}
        </Button>
        <Button
          size="small"
          icon={<EditOutlined />}
          disabled={!q.data}
          onClick={() => setEditing(true)}
          data-testid="webview-edit"
        >
          {t("code.domains.edit")}
        </Button>
      </SectionHead>
      {q.isPending && <Skeleton active paragraph={{ rows: 1 }} />}
      {q.error && <CodeErrorAlert error={q.error} />}
      {addAll.error && <CodeErrorAlert error={addAll.error} />}
      {q.data &&
        (q.data.length === 0 ? (
          <Typography.Text type="secondary" data-testid="webview-list">
            {t("code.domains.webviewEmpty")}
          </Typography.Text>
        ) : (
          <DomainTags list={q.data} testid="webview-list" />
        ))}
      {q.data && editing && (
        <WebviewModal appid={appid} list={q.data} onClose={() => setEditing(false)} />
      )}
    </Flex>
  );
}

/** 服务器域名 and 业务域名 of one mini program. */
export function DomainsSection({ appid }: { appid: string }) {
  return (
    <Flex vertical gap={20} data-testid="domains-section">
      <ServerDomainsPart appid={appid} />
      <WebviewPart appid={appid} />
    </Flex>
  );
}
