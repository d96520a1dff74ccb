import { cleanup, fireEvent, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { renderApp } from "../test/renderApp";
import { onlyThisComputer } from "./AuthorizePage";

afterEach(cleanup);

const attempt = (mobileUrl: string) => ({
  pre_auth_code: "preauthcode@@@x",
  expires_in: 600,
  expires_at: Math.floor(Date.now() / 1000) + 600,
  launch_url: `${mobileUrl}&pc=1`,
  mobile_url: mobileUrl,
  state: "s",
  mobile_qr_svg: "<svg xmlns='http://www.w3.org/2000/svg'/>",
});

describe("发送到手机's QR code", () => {
  it("knows which addresses only this computer can open", () => {
    expect(onlyThisComputer("http://127.0.0.1:38287/auth/start?x=1")).toBe(true);
    expect(onlyThisComputer("http://localhost:8780/auth/start")).toBe(true);
    expect(onlyThisComputer("http://[::1]:8780/auth/start")).toBe(true);
    expect(onlyThisComputer("https://relay.example.com/auth/start")).toBe(false);
    expect(onlyThisComputer("not a url")).toBe(false);
  });

  it("says a sandbox QR code cannot be opened on a phone, and not for a real relay", async () => {
    for (const [url, loopback] of [
      ["http://127.0.0.1:38287/auth/start?mobile=1", true],
      ["https://relay.example.com/auth/start?mobile=1", false],
    ] as const) {
      renderApp(undefined, "/accounts/authorize", { begin_authorization: attempt(url) });
      fireEvent.click(await screen.findByTestId("begin-authorization", {}, { timeout: 5000 }));
      await screen.findByTestId("mobile-qr");
      expect(screen.queryByTestId("mobile-qr-loopback") !== null).toBe(loopback);
      if (loopback) {
        expect(screen.getByTestId("mobile-qr-loopback").textContent).toContain("手机扫码打不开");
      }
      cleanup();
    }
  });
});
