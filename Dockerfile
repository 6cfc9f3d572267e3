# syntax=docker/dockerfile:1
# Multi-stage: build with the full Node 24 toolchain, run on distroless Node 24 (no shell, no package
# manager, no build tools) as the non-root user 65532. Build: docker build -t kube-oidc-proxy .
# The Helm chart (charts/kube-oidc-proxy) expects exactly this layout: args only, ports 6443 and 8080.

FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency runs code at build time (none needs an install script).
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# Production dependencies only: dist/main.js imports nothing from devDependencies (checked by
# `npm ci --omit=dev` + `node dist/main.js --version`, see README "Container image").
RUN npm run build && npm prune --omit=dev --no-audit --no-fund && npm cache clean --force

FROM gcr.io/distroless/nodejs24-debian12:nonroot
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="kube-oidc-proxy" \
      org.opencontainers.image.description="OIDC authenticating reverse proxy for the Kubernetes API" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/jetstack/kube-oidc-proxy" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
USER 65532:65532
EXPOSE 6443 8080
# Exec form: node is PID 1 itself (no shell in between), so the SIGTERM the kubelet sends reaches the
# proxy, which marks itself not ready and drains for --shutdown-grace-period.
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/main.js"]
