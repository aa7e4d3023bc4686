"""The naive baseline: the same P2P payments the way a developer would do them with plain web3.py, one
transaction per payment (EIP-3009 ``transferWithAuthorization`` signed by the payer, submitted by a funded
account), waiting for each receipt before the next payment. Same chain, same wallets, same run."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from web3 import Web3
from web3.types import Nonce

from bench import ratio
from tools.devnet import dev_accounts
from wallet_sdk.artifacts import load_artifact
from wallet_sdk.authorizations import Domain, TransferAuthorization
from wallet_sdk.deploy import Deployment
from wallet_sdk.keys import WalletKey

__all__ = ["SUBMITTER_ACCOUNT", "BaselineResult", "run_baseline"]

SUBMITTER_ACCOUNT = 19  # a dev account of `walletnet up` (20 accounts) that no bank or operator uses


@dataclass
class BaselineResult:
    payments: int
    confirmed: int
    seconds: float

    @property
    def per_s(self) -> float:
        return ratio(self.confirmed, self.seconds)


def run_baseline(rpc_url: str, deployment_file: Path, payers: list[WalletKey], payees: list[str],
                 payments: int) -> BaselineResult:
    """``payments`` transfers of 1 minor unit from ``payers`` to ``payees`` in turn, one receipt at a time."""
    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 60}))
    deployment = Deployment.load(deployment_file)
    token = w3.eth.contract(address=Web3.to_checksum_address(deployment.contracts["DigitalCash"]),
                            abi=load_artifact("DigitalCash")["abi"])
    submitter = Account.from_key(dev_accounts(SUBMITTER_ACCOUNT + 1)[SUBMITTER_ACCOUNT].private_key)
    domain = Domain.for_token(token.functions.name().call(), w3.eth.chain_id, token.address)
    valid_before = int(w3.eth.get_block("latest")["timestamp"]) + 3_600
    signed = []
    for i in range(payments):  # signed before the clock starts, as for walletnet
        payer, payee = payers[i % len(payers)], payees[i % len(payees)]
        auth = TransferAuthorization(from_=payer.address, to=payee, value=1, valid_before=valid_before)
        signed.append((auth, auth.sign(payer, domain)))
    confirmed = 0
    start = time.perf_counter()
    nonce = int(w3.eth.get_transaction_count(submitter.address))
    for auth, sig in signed:
        tx = token.functions.transferWithAuthorization(
            auth.from_, auth.to, auth.value, 0, auth.valid_before, auth.nonce, sig.v, sig.r, sig.s,
        ).build_transaction({"from": submitter.address, "nonce": Nonce(nonce)})
        tx_hash = w3.eth.send_raw_transaction(submitter.sign_transaction(tx).raw_transaction)
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
        confirmed += int(receipt["status"] == 1)
        nonce += 1
    return BaselineResult(payments, confirmed, time.perf_counter() - start)
