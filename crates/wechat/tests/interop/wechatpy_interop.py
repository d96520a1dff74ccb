#!/usr/bin/env python3
"""Cross-check wxdesk's WXBizMsgCrypt against wechatpy, an independent implementation.

Usage: wechatpy_interop.py INPUT.json OUTPUT.json

INPUT: {"token", "encoding_aes_key", "appid", "wrong_appid",
        "to_python":   [{"body", "msg_signature", "timestamp", "nonce", "expected"}],
        "from_python": [{"msg", "timestamp", "nonce"}]}
OUTPUT: {"decrypted": [str], "rejected_with_wrong_appid": [bool], "encrypted": [str xml]}

Run by crates/wechat/tests/interop.rs inside a throwaway venv with wechatpy installed.
"""
import json
import sys

from wechatpy.crypto import WeChatCrypto


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as f:
        cfg = json.load(f)
    crypto = WeChatCrypto(cfg["token"], cfg["encoding_aes_key"], cfg["appid"])
    wrong = WeChatCrypto(cfg["token"], cfg["encoding_aes_key"], cfg["wrong_appid"])

    decrypted = []
    rejected = []
    for case in cfg["to_python"]:
        decrypted.append(
            crypto.decrypt_message(case["body"], case["msg_signature"], case["timestamp"], case["nonce"])
        )
        try:
            wrong.decrypt_message(case["body"], case["msg_signature"], case["timestamp"], case["nonce"])
            rejected.append(False)
        except Exception:  # wechatpy raises InvalidAppIdException
            rejected.append(True)

    encrypted = [
        crypto.encrypt_message(case["msg"], case["nonce"], case["timestamp"]) for case in cfg["from_python"]
    ]

    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump({"decrypted": decrypted, "rejected_with_wrong_appid": rejected, "encrypted": encrypted}, f,
                  ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
