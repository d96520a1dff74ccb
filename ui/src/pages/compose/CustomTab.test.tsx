import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC } from "@tauri-apps/api/mocks";
import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { App } from "antd";
import { afterEach, describe, expect, it } from "vitest";
import { i18n } from "../../i18n";
import { CustomTab } from "./CustomTab";

const APPID = "wx1234567890abcdef";
const PICKED = "/home/staff/图片/封面.png";

type Call = { cmd: string; args: Record<string, unknown> };

/** The tab with the commands answered by `answer`; returns every call made. */
function renderTab(answer: (cmd: string, args: Record<string, unknown>) => unknown) {
  const calls: Call[] = [];
  mockIPC((cmd, args) => {
    const a = (args ?? {}) as Record<string, unknown>;
    calls.push({ cmd, args: a });
    if (cmd.startsWith("plugin:event|")) return 1;
    if (cmd === "interactions_open") return { rows: [], total: 0, next: null };
    // No saved draft; what is typed is saved (drafts.test.tsx covers the drafts).
    if (cmd === "compose_drafts") return [];
    if (cmd === "compose_draft_save") return Date.now();
    if (cmd === "compose_draft_delete") return true;
    if (cmd === "plugin:dialog|open") return PICKED;
    return answer(cmd, a);
  });
  const view = render(
    <QueryClientProvider
      client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}
    >
      <App>
        <CustomTab appid={APPID} />
      </App>
    </QueryClientProvider>,
  );
  return { calls, view };
}

const cover = (id: string, expiresInSecs: number) => {
  const now = Math.floor(Date.now() / 1000);
  return {
    media_id: id,
    file_name: "封面.png",
    size: 48_000,
    created_at: now,
    expires_at: now + expiresInSecs,
  };
};

function field(view: ReturnType<typeof render>, id: string): HTMLInputElement {
  const el = view.container.querySelector(`#${id}`);
  if (!el) throw new Error(`no field ${id}`);
  return el as HTMLInputElement;
}

async function chooseCard() {
  fireEvent.click(await screen.findByText(i18n.t("send.custom.mini")));
}

afterEach(async () => {
  await act(() => i18n.changeLanguage("zh-CN"));
});

describe("the mini-program card's cover", () => {
  it("is picked as an image, uploaded for the account, and fills the media id with its 3-day expiry", async () => {
    const { calls, view } = renderTab((cmd) => {
      if (cmd === "media_upload_card_cover") return cover("MEDIA_FRESH", 3 * 24 * 3600);
      throw new Error(`unexpected command ${cmd}`);
    });
    await chooseCard();
    fireEvent.click(screen.getByTestId("cover-upload"));
    const done = await screen.findByTestId("cover-done");
    expect(done.textContent).toContain("已上传 封面.png（47 KB）");
    expect(done.textContent).toContain("3 天");
    expect(field(view, "thumb").value).toBe("MEDIA_FRESH");
    const dialog = calls.find((c) => c.cmd === "plugin:dialog|open");
    const options = dialog?.args.options as { filters: { extensions: string[] }[] };
    expect(options.filters[0]?.extensions).toEqual(["jpg", "jpeg", "png"]);
    const upload = calls.find((c) => c.cmd === "media_upload_card_cover");
    expect(upload?.args).toEqual({ appid: APPID, path: PICKED });
  });

  it("shows why an upload failed, in the window's language", async () => {
    await act(() => i18n.changeLanguage("en"));
    const { view } = renderTab((cmd) => {
      if (cmd === "media_upload_card_cover")
        throw {
          code: "invalid",
          message: "The file is not a JPG or PNG image. Choose a JPG or PNG image.",
          hint: null,
          errcode: null,
        };
      throw new Error(`unexpected command ${cmd}`);
    });
    await chooseCard();
    fireEvent.click(screen.getByTestId("cover-upload"));
    const err = await screen.findByTestId("cover-error");
    expect(err.textContent).toContain("The cover was not uploaded");
    expect(err.textContent).toContain("not a JPG or PNG");
    expect(screen.getByTestId("cover-upload").textContent).toContain("Upload cover");
    expect(field(view, "thumb").value).toBe("");
  });

  it("is uploaded again before sending when WeChat has forgotten it", async () => {
    let uploads = 0;
    const { calls, view } = renderTab((cmd) => {
      if (cmd === "media_upload_card_cover") {
        uploads += 1;
        // The first one is already past its 3 days.
        return uploads === 1 ? cover("MEDIA_OLD", -10) : cover("MEDIA_NEW", 3 * 24 * 3600);
      }
      if (cmd === "compose_custom_send") return { state: "sent", msgid: null };
      throw new Error(`unexpected command ${cmd}`);
    });
    await chooseCard();
    fireEvent.click(screen.getByTestId("cover-upload"));
    await waitFor(() => expect(field(view, "thumb").value).toBe("MEDIA_OLD"));
    const input = screen.getByTestId("custom-recipients").querySelector("input") as HTMLElement;
    fireEvent.change(input, { target: { value: "oUSER1" } });
    fireEvent.keyDown(input, { key: "Enter", code: "Enter", keyCode: 13 });
    fireEvent.change(field(view, "title"), { target: { value: "新品上架" } });
    fireEvent.change(field(view, "appid"), { target: { value: "wxmini" } });
    fireEvent.change(field(view, "pagepath"), { target: { value: "pages/index/index" } });
    await waitFor(() =>
      expect((screen.getByTestId("custom-send") as HTMLButtonElement).disabled).toBe(false),
    );
    fireEvent.click(screen.getByTestId("custom-send"));
    await waitFor(() => expect(calls.some((c) => c.cmd === "compose_custom_send")).toBe(true));
    const send = calls.find((c) => c.cmd === "compose_custom_send");
    expect(send?.args.message).toMatchObject({ type: "mini", thumb_media_id: "MEDIA_NEW" });
    expect(calls.filter((c) => c.cmd === "media_upload_card_cover")).toHaveLength(2);
    expect(field(view, "thumb").value).toBe("MEDIA_NEW");
  });
});
