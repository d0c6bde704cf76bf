# pipac's deployables as container images, one target each:
#
#   docker build --target step-agent      -t pipac/step-agent:0.1.0 .
#   docker build --target device-adapter  -t pipac/device-adapter:0.1.0 .
#   docker build --target coordinator     -t pipac/coordinator:0.1.0 .
#   docker build --target erp-gateway     -t pipac/erp-gateway:0.1.0 .
#   docker build --target plant-simulator -t pipac/plant-simulator:0.1.0 .
#   docker build --target cli             -t pipac/cli:0.1.0 .          (also the default)
#
# One target per service rather than a SERVICE build argument: the images differ only in their
# entry point, so as targets of one file they share every layer (node_modules, the bundles,
# recipes, models) — built once, stored once in the registry, pulled once per node — and each
# ENTRYPOINT is written out literally (an exec-form ENTRYPOINT cannot expand a build argument).
#
# Needs BuildKit (Docker 23 and later) or another builder that knows `RUN --mount` (npm cache).
#
# Runtime contract (what the Helm chart relies on): the user is 10001:10001; nothing is written
# under /app, so the root filesystem can be read-only; HOME is /tmp (node-opcua and npm write
# there if asked to); writable state goes to /tmp or to volumes under /var/lib/pipac (device
# adapter spool and journal, OPC UA certificates, deployed models, training work). The bundles
# find /app as their workspace (its package.json), so the default recipe and models resolve;
# default writable folders under it do not work on a read-only root: pass them (--pki, --out).

ARG NODE_IMAGE=node:22-bookworm-slim

# ── toolchain: what `npm ci` needs ─────────────────────────────────────────────────────────
FROM ${NODE_IMAGE} AS toolchain
# better-sqlite3 compiles from source when no prebuilt binary matches; node-gyp then takes the
# headers installed with Node (npm_config_nodedir) instead of downloading them. Unpinned on
# purpose (DL3008): the build stage's compilers are not shipped, and Debian drops superseded
# versions from its mirrors, so a pin would break the build at the next point release.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# The npm the lockfile was written with: Node 22 bundles npm 10, which ignores package.json's
# allowScripts and would run every dependency's install script.
RUN npm install -g npm@11.19.1
ENV npm_config_nodedir=/usr/local \
    ONNXRUNTIME_NODE_INSTALL=skip \
    SCARF_ANALYTICS=false \
    NX_NO_CLOUD=true \
    NX_DAEMON=false
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
# The workspace's package.json, so `npm ci` sees the same workspaces as the lockfile.
COPY apps/cli/package.json apps/cli/

# ── build: every bundle into dist/ ─────────────────────────────────────────────────────────
FROM toolchain AS build
RUN --mount=type=cache,target=/root/.npm npm ci
COPY tsconfig.base.json ./
COPY libs libs
COPY services services
COPY apps apps
COPY scripts/build-services.sh scripts/
RUN bash scripts/build-services.sh

# ── production dependencies: node_modules without devDependencies ──────────────────────────
FROM toolchain AS production-dependencies
# The bundles keep packages external (native addons, .wasm and NodeSet2 files beside their
# scripts), so they need these at run time. The workspace link to apps/cli is dropped: the
# image carries the CLI as a bundle, not as sources.
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev \
 && rm -f node_modules/pipac

# ── runtime: shared by every target ────────────────────────────────────────────────────────
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOME=/tmp
RUN groupadd --gid 10001 pipac \
 && useradd --uid 10001 --gid pipac --home-dir /tmp --no-create-home --shell /usr/sbin/nologin pipac \
 && install -d -o 10001 -g 10001 /var/lib/pipac
WORKDIR /app
# The workspace manifest: its version is the one telemetry reports (service.version, pipac_build_info).
COPY package.json ./
COPY --from=production-dependencies /src/node_modules node_modules
COPY --from=build /src/dist dist
# The reference plant's recipes and trained policies (read-only defaults; the chart can mount
# others).
COPY recipes recipes
COPY models models
# Numeric, so the kubelet can verify runAsNonRoot without reading /etc/passwd.
USER 10001:10001

# ── one target per deployable ──────────────────────────────────────────────────────────────
# `<config.yaml>` is the argument (the chart passes it); --enable-source-maps puts TypeScript
# file names and lines into stack traces.
FROM runtime AS step-agent
ENTRYPOINT ["node", "--enable-source-maps", "/app/dist/step-agent/main.js"]

FROM runtime AS device-adapter
ENTRYPOINT ["node", "--enable-source-maps", "/app/dist/device-adapter/main.js"]

FROM runtime AS coordinator
ENTRYPOINT ["node", "--enable-source-maps", "/app/dist/coordinator/main.js"]

FROM runtime AS erp-gateway
ENTRYPOINT ["node", "--enable-source-maps", "/app/dist/erp-gateway/main.js"]

FROM runtime AS plant-simulator
ENTRYPOINT ["node", "--enable-source-maps", "/app/dist/plant-simulator/main.js"]
CMD ["--help"]

# Last, so a build without --target gives the command-line tool (`pipac train`, `pipac clients`…).
FROM runtime AS cli
ENTRYPOINT ["node", "--enable-source-maps", "/app/dist/cli/main.js"]
CMD ["--help"]
