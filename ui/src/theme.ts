import type { ThemeConfig } from "antd";

// System CJK fonts first on each OS (PingFang on macOS, Microsoft YaHei on Windows, Noto CJK on
// Linux), so Chinese never falls back to a mismatched serif.
export const FONT_FAMILY = [
  "-apple-system",
  "BlinkMacSystemFont",
  '"Segoe UI"',
  '"PingFang SC"',
  '"Hiragino Sans GB"',
  '"Microsoft YaHei"',
  '"Noto Sans CJK SC"',
  '"Noto Sans SC"',
  '"WenQuanYi Micro Hei"',
  '"Helvetica Neue"',
  "Arial",
  "sans-serif",
].join(", ");

export const BRAND_GREEN = "#07C160";

export const theme: ThemeConfig = {
  cssVar: { key: "wxdesk" },
  token: {
    colorPrimary: BRAND_GREEN,
    colorInfo: "#1677ff",
    colorSuccess: BRAND_GREEN,
    colorLink: "#0a7f4b",
    borderRadius: 6,
    fontFamily: FONT_FAMILY,
    fontSize: 14,
    colorBgLayout: "#f5f6f7",
  },
  components: {
    Layout: {
      siderBg: "#ffffff",
      headerBg: "#ffffff",
      headerHeight: 56,
      headerPadding: "0 24px",
    },
    Menu: {
      itemSelectedBg: "#e8f8ef",
      itemSelectedColor: "#068a45",
      itemBorderRadius: 6,
      itemMarginInline: 8,
    },
  },
};
