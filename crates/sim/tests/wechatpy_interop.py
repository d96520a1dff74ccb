"""wechatpy (PyPI) against wxdesk-sim: evidence that the sim speaks WeChat's protocol, not just
our client's version of it. Run by tests/wechatpy.rs in a throwaway venv; reads one JSON job on
stdin and prints one JSON result on stdout.

Modes:
  flow:  wechatpy's WeChatComponent decrypts the sim's ticket push (parse_message), fetches a
         component_access_token, creates a pre_auth_code, has the sim authorize an account,
         exchanges the code (query_auth) and sends a template message through
         WeChatComponentClient; then WeChatClient(appid, secret) does the same with cgi-bin/token.
  parse: wechatpy's WeChatCrypto + parse_message decrypt and parse one push of the sim.
"""
import json
import socket
import sys
import warnings

import requests
import wechatpy
from wechatpy import WeChatClient, WeChatComponent
from wechatpy.client import WeChatComponentClient
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import WeChatClientException

warnings.simplefilter("ignore", DeprecationWarning)

# Loopback only: any attempt to reach a real WeChat host fails here instead of on the network.
_getaddrinfo = socket.getaddrinfo


def _loopback_only(host, *args, **kwargs):
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise OSError("wxdesk test: only loopback may be contacted, not " + str(host))
    return _getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _loopback_only


class SimWeChatClient(WeChatClient):
    """WeChatClient hard-codes https://api.weixin.qq.com/cgi-bin/token in fetch_access_token;
    the same request (wechatpy's own _fetch_access_token) against the configured base."""

    def fetch_access_token(self):
        return self._fetch_access_token(
            url=self.API_BASE_URL + "token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )


def point_at(base):
    """wechatpy keeps its API base URL in class attributes: point them at the sim."""
    WeChatComponent.API_BASE_URL = base + "/cgi-bin"
    WeChatClient.API_BASE_URL = base + "/cgi-bin/"
    WeChatComponentClient.API_BASE_URL = base + "/cgi-bin/"


def flow(job):
    base = job["base_url"]
    point_at(base)
    component = WeChatComponent(
        job["component_appid"], job["component_appsecret"], job["component_token"], job["aes_key"]
    )
    push = job["ticket_push"]
    msg = component.parse_message(push["body"], push["msg_signature"], push["timestamp"], push["nonce"])
    token = component.fetch_access_token()
    pre_auth_code = component.create_preauthcode()["pre_auth_code"]
    auth = requests.post(
        base + "/__sim/authorize",
        json={"pre_auth_code": pre_auth_code, "authorizer_appid": job["authorizer_appid"]},
        timeout=10,
    ).json()
    client = component.get_client_by_authorization_code(auth["auth_code"])
    sent = client.message.send_template(job["openid"], job["template_id"], job["data"], url="https://example.com/o/1")
    bad = dict(job["data"])
    bad["thing2"] = {"value": "长" * 21}
    try:
        client.message.send_template(job["openid"], job["template_id"], bad)
        bad_errcode = 0
    except WeChatClientException as e:
        bad_errcode = e.errcode
    own = SimWeChatClient(job["authorizer_appid"], job["appsecret"])
    own_sent = own.message.send_template(job["openid2"], job["template_id"], job["data"])
    return {
        "ticket_type": msg.type,
        "ticket_matches": msg.verify_ticket == component.component_verify_ticket,
        "component_token_ok": bool(token.get("component_access_token")),
        "expires_in": token.get("expires_in"),
        "authorizer_appid": client.appid,
        "msgid": sent["msgid"],
        "bad_errcode": bad_errcode,
        "own_msgid": own_sent["msgid"],
    }


def parse(job):
    crypto = WeChatCrypto(job["component_token"], job["aes_key"], job["component_appid"])
    xml = crypto.decrypt_message(job["body"], job["msg_signature"], job["timestamp"], job["nonce"])
    msg = wechatpy.parse_message(xml)
    return {"type": msg.type, "event": getattr(msg, "event", None), "id": msg.id,
            "status": getattr(msg, "status", None), "source": msg.source, "target": msg.target}


if __name__ == "__main__":
    job = json.load(sys.stdin)
    result = flow(job) if job["mode"] == "flow" else parse(job)
    print(json.dumps(result, ensure_ascii=False))
