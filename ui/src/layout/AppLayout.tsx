import { theme as antdTheme, Flex, Layout, Menu, Space, Spin, Typography } from "antd";
import { createElement, lazy, Suspense, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Outlet, useLocation, useNavigate } from "react-router";
import { useAppInfo } from "../api";
import { useAccountsLive } from "../api/shell";
import { useUiStore } from "../store/ui";
import { FeedBanner } from "./FeedBanner";
import { LanguageSwitch } from "./LanguageSwitch";
import { ModeBadge } from "./ModeBadge";
import { NAV_ITEMS, navKeyForPath } from "./nav";
import { TeamBadge } from "./TeamBadge";

const { Header, Sider, Content } = Layout;

// The welcome shows only until a platform is configured (a first start), and it brings the
// restore dialog and antd's Steps and Result: loaded like a page, so every later start does
// not parse it for nothing.
const Welcome = lazy(() => import("./Welcome").then((m) => ({ default: m.Welcome })));

function Logo({ collapsed }: { collapsed: boolean }) {
  const { t } = useTranslation();
  const { token } = antdTheme.useToken();
  return (
    <div
      style={{
        height: 56,
        display: "flex",
        alignItems: "center",
        justifyContent: collapsed ? "center" : "flex-start",
        gap: 10,
        padding: collapsed ? 0 : "0 20px",
        borderBottom: `1px solid ${token.colorSplit}`,
      }}
    >
      <div
        aria-hidden
        style={{
          width: 28,
          height: 28,
          borderRadius: 7,
          background: token.colorPrimary,
          color: "#fff",
          fontWeight: 700,
          fontSize: 14,
          display: "flex",
          alignItems: "center",
          justifyContent: "center",
          flexShrink: 0,
        }}
      >
        wx
      </div>
      {!collapsed && (
        <Typography.Text strong style={{ fontSize: 16 }}>
          {t("app.name")}
        </Typography.Text>
      )}
    </div>
  );
}

/** What the content area shows while a page's chunk loads: only on the first render of a page
 * the app opens on or reloads to. A click in the sidebar navigates inside a transition (React
 * Router's default), so the page being left stays up until the next one is ready, never a
 * spinner; the delay keeps a chunk read from disk in a few ms from flashing one at all. */
function PageLoading() {
  return (
    <Flex data-testid="page-loading" justify="center" style={{ paddingTop: 96 }}>
      <Spin delay={150} />
    </Flex>
  );
}

/** The frame every page renders in: sidebar, header (name, mode badge, language), content. */
export function AppLayout() {
  const { t } = useTranslation();
  const { token } = antdTheme.useToken();
  const navigate = useNavigate();
  const location = useLocation();
  const collapsed = useUiStore((s) => s.siderCollapsed);
  const setCollapsed = useUiStore((s) => s.setSiderCollapsed);
  const selected = navKeyForPath(location.pathname);
  const { data: info } = useAppInfo();
  // 概览 is the welcome whenever nothing is configured, however often the user looked at
  // another page first (an error elsewhere tells them to choose 体验沙箱 here). Once 体验沙箱
  // succeeds the welcome stays up (to show "ready") until the user moves on.
  const onOverview = location.pathname === "/overview";
  const unconfigured = info?.mode === "unconfigured";
  const [kept, setKept] = useState(false);
  useEffect(() => {
    setKept(onOverview && (unconfigured || kept));
  }, [onOverview, unconfigured, kept]);
  const welcome = unconfigured || kept;
  useAccountsLive();

  return (
    <Layout style={{ minHeight: "100vh" }}>
      <Sider width={208} collapsible collapsed={collapsed} onCollapse={setCollapsed} theme="light">
        <Logo collapsed={collapsed} />
        <Menu
          data-testid="sidebar"
          mode="inline"
          selectedKeys={selected ? [selected] : []}
          style={{ borderInlineEnd: "none", paddingTop: 8 }}
          onClick={({ key }) => {
            const item = NAV_ITEMS.find((i) => i.key === key);
            if (item) navigate(item.path);
          }}
          items={NAV_ITEMS.map((item) => ({
            key: item.key,
            icon: createElement(item.icon),
            label: <span data-testid={`nav-${item.key}`}>{t(`nav.${item.key}`)}</span>,
          }))}
        />
      </Sider>
      {/* The divider sits on the content side so it runs past the sider's collapse trigger. */}
      <Layout style={{ borderLeft: `1px solid ${token.colorSplit}` }}>
        <Header
          style={{
            display: "flex",
            alignItems: "center",
            justifyContent: "space-between",
            borderBottom: `1px solid ${token.colorSplit}`,
          }}
        >
          <Space size={12} align="center">
            <Typography.Text data-testid="app-title" strong style={{ fontSize: 16 }}>
              {t("app.name")}
            </Typography.Text>
            <Typography.Text type="secondary">{t("app.subtitle")}</Typography.Text>
            <ModeBadge />
            <TeamBadge />
          </Space>
          <LanguageSwitch />
        </Header>
        {/* Relay trouble and parked events: the feed works in the background, so the frame
            says when it does not. */}
        <FeedBanner />
        <Content style={{ padding: 24, overflow: "auto" }}>
          {/* Inside Content, so a page loading its chunk leaves the sidebar and header up. */}
          <Suspense fallback={<PageLoading />}>
            {welcome && location.pathname === "/overview" ? <Welcome /> : <Outlet />}
          </Suspense>
        </Content>
      </Layout>
    </Layout>
  );
}
