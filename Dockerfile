# The walletnet bank node and API. The compiled contracts are committed (wallet_sdk/artifacts), so the image
# needs neither Node.js nor solc; `walletnet genesis` (which runs a throwaway anvil) runs on the host.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY wallet_sdk ./wallet_sdk
COPY node ./node
COPY api ./api
COPY tools ./tools
RUN pip install . \
 && useradd --uid 1000 --create-home walletnet \
 && mkdir /data && chown walletnet:walletnet /data

# /data: the dev profile's named volume takes this owner; the consortium profile runs as the host user.
USER walletnet
WORKDIR /data
ENTRYPOINT ["walletnet"]
CMD ["--help"]
