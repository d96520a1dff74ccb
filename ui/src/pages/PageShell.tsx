import { Button, Card, Empty, Flex, Typography } from "antd";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";
import type { NavKey } from "../layout/nav";

interface PageShellProps {
  page: NavKey;
  children?: ReactNode;
}

/** A page title over a card; `children` replaces the empty state once a page has content. */
export function PageShell({ page, children }: PageShellProps) {
  const { t } = useTranslation();
  return (
    <Flex vertical gap={16} data-testid={`page-${page}`} style={{ maxWidth: 1200 }}>
      <Typography.Title level={4} style={{ margin: 0 }}>
        {t(`pages.${page}.title`)}
      </Typography.Title>
      {children}
    </Flex>
  );
}

interface EmptyStateProps {
  /** Settings has its own content rather than an empty state. */
  page: Exclude<NavKey, "settings">;
  /** Where the primary action leads. */
  to: string;
  icon?: ReactNode;
}

/** What an empty page says: what is missing, and one button to the step that fills it. */
export function EmptyState({ page, to, icon }: EmptyStateProps) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  return (
    <Card>
      <Empty
        style={{ padding: "48px 0" }}
        image={Empty.PRESENTED_IMAGE_SIMPLE}
        description={
          <Flex vertical gap={4} align="center">
            <Typography.Text strong style={{ fontSize: 16 }}>
              {t(`pages.${page}.emptyTitle`)}
            </Typography.Text>
            <Typography.Text type="secondary" style={{ maxWidth: 520 }}>
              {t(`pages.${page}.emptyDesc`)}
            </Typography.Text>
          </Flex>
        }
      >
        <Button
          type="primary"
          icon={icon}
          data-testid={`empty-action-${page}`}
          onClick={() => navigate(to)}
        >
          {t(`pages.${page}.action`)}
        </Button>
      </Empty>
    </Card>
  );
}
