import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { App as AntdApp, ConfigProvider } from "antd";
// antd's ES modules, not `antd/locale/*`: those re-export antd/lib (CommonJS), which put a second
// copy of both locales and their pickers' into the first paint. en_US stays static: it is
// antd's own default locale, in the first paint whatever this file imports (#19).
import enUS from "antd/es/locale/en_US";
import zhCN from "antd/es/locale/zh_CN";
import { useState } from "react";
import { I18nextProvider } from "react-i18next";
import { createHashRouter, type DataRouter, RouterProvider } from "react-router";
import { i18n } from "./i18n";
import { routes } from "./routes";
import { useUiStore } from "./store/ui";
import { theme } from "./theme";

export function createQueryClient() {
  return new QueryClient({
    defaultOptions: {
      // Commands are local IPC: a failure is not a flaky network, so retry once at most.
      queries: { retry: 1, refetchOnWindowFocus: false },
    },
  });
}

// Hash routing: the bundled app is served from the custom protocol, which has no history
// fallback, so a reload on /accounts must not ask the asset server for that path.
export function createAppRouter() {
  return createHashRouter(routes);
}

interface AppProps {
  router?: DataRouter;
  queryClient?: QueryClient;
}

export function App({ router, queryClient }: AppProps) {
  const language = useUiStore((s) => s.language);
  const [client] = useState(() => queryClient ?? createQueryClient());
  const [appRouter] = useState(() => router ?? createAppRouter());
  return (
    <QueryClientProvider client={client}>
      <I18nextProvider i18n={i18n}>
        <ConfigProvider locale={language === "en" ? enUS : zhCN} theme={theme}>
          <AntdApp>
            <RouterProvider router={appRouter} />
          </AntdApp>
        </ConfigProvider>
      </I18nextProvider>
    </QueryClientProvider>
  );
}
