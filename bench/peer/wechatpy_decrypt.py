"""The peer baseline: wechatpy verifies msg_signature, decrypts and parses the same pushes the
Rust side did (bench/src/bin/crypto_peer.rs wrote them), one thread, and prints a RESULT line."""
import json
import sys
import time

from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto

APPID = "wx5a9d0c0e7f3b1a2c"
TOKEN = "wxdesksandbox"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"

pushes = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
crypto = WeChatCrypto(TOKEN, AES_KEY, APPID)
start = time.perf_counter()
ok = 0
for p in pushes:
    xml = crypto.decrypt_message(p["body"], p["msg_signature"], p["timestamp"], p["nonce"])
    if parse_message(xml).type == "text":
        ok += 1
secs = time.perf_counter() - start
rate = len(pushes) / secs
print(f"wechatpy: verify + decrypt + parse of {len(pushes)} pushes, one thread: {rate:.0f}/s ({ok} text messages)")
print("RESULT " + json.dumps({"bench": "decrypt_wechatpy", "pushes": len(pushes), "per_s": rate, "ok": ok}))
