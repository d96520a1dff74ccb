import {
  CloudServerOutlined,
  ExperimentOutlined,
  LoadingOutlined,
  QuestionCircleOutlined,
} from "@ant-design/icons";
import { Tag, Tooltip } from "antd";
import { useTranslation } from "react-i18next";
import { useAppInfo } from "../api";

/** The persistent 沙箱 / 正式 / 未配置 badge: staff must always see whether a send reaches real users. */
export function ModeBadge() {
  const { t } = useTranslation();
  const { data, error, isPending } = useAppInfo();

  if (isPending) {
    return (
      <Tag data-testid="mode-badge" icon={<LoadingOutlined />} variant="outlined">
        {t("mode.loading")}
      </Tag>
    );
  }
  if (error || !data) {
    return (
      <Tooltip title={t("mode.errorTip", { message: error?.message ?? "" })}>
        <Tag data-testid="mode-badge" color="default">
          {t("mode.unknown")}
        </Tag>
      </Tooltip>
    );
  }
  switch (data.mode) {
    case "sandbox":
      return (
        <Tooltip title={t("mode.sandboxTip")}>
          <Tag
            data-testid="mode-badge"
            data-mode="sandbox"
            color="gold"
            icon={<ExperimentOutlined />}
          >
            {t("mode.sandbox")}
          </Tag>
        </Tooltip>
      );
    case "production":
      return (
        <Tooltip
          title={
            data.platform_appid
              ? t("mode.productionTip", { appid: data.platform_appid })
              : t("mode.productionUnconfigured")
          }
        >
          <Tag
            data-testid="mode-badge"
            data-mode="production"
            color="green"
            icon={<CloudServerOutlined />}
          >
            {t("mode.production")}
          </Tag>
        </Tooltip>
      );
    case "unconfigured":
      return (
        <Tooltip title={t("mode.unconfiguredTip")}>
          <Tag
            data-testid="mode-badge"
            data-mode="unconfigured"
            color="default"
            icon={<QuestionCircleOutlined />}
          >
            {t("mode.unconfigured")}
          </Tag>
        </Tooltip>
      );
  }
}
