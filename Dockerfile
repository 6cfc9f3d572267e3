# syntax=docker/dockerfile:1
# Multi-stage: build with the full Node 24 image, run on distroless Node 24 (no shell, no package
# manager, no build tools) as the non-root user 65532.

FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM gcr.io/distroless/nodejs24-debian12:nonroot
ARG VERSION=dev
LABEL org.opencontainers.image.title="kube-oidc-proxy" \
      org.opencontainers.image.description="OIDC authenticating reverse proxy for the Kubernetes API" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
USER 65532:65532
EXPOSE 6443 8080
# Exec form: the node process is PID 1's child-free target, so SIGTERM reaches it and drains connections.
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/main.js"]
