import { SafetyCertificateOutlined } from "@ant-design/icons";
import { Button, Card, Flex, Typography } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { ExportBackupModal } from "./ExportBackupModal";
import { RestoreButton } from "./RestoreBackup";

/** 设置 → 备份与恢复: export the workspace encrypted; restore only into an empty one. */
export function BackupCard() {
  const { t } = useTranslation();
  const [exporting, setExporting] = useState(false);
  return (
    <Card title={t("backup.cardTitle")} data-testid="backup-card">
      <Flex vertical gap={16}>
        <Typography.Paragraph type="secondary" style={{ margin: 0, maxWidth: 720 }}>
          {t("backup.cardDesc")}
        </Typography.Paragraph>
        <Flex gap={8} wrap>
          <Button
            type="primary"
            icon={<SafetyCertificateOutlined />}
            onClick={() => setExporting(true)}
            data-testid="backup-export"
          >
            {t("backup.export")}
          </Button>
          <RestoreButton />
        </Flex>
      </Flex>
      <ExportBackupModal open={exporting} onClose={() => setExporting(false)} />
    </Card>
  );
}
