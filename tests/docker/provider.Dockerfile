# The e2e's OIDC provider (tests/e2e/provider.mjs, oidc-provider with
# Authentik's URL layout) as an image, standing in for Authentik's server in
# make docker. Context: the repository root. Built with --network host (npm).
FROM node:24-slim
ARG OIDC_PROVIDER
WORKDIR /provider
RUN printf '{"type":"module","private":true}\n' >package.json \
 && npm install --no-audit --no-fund --omit=dev "oidc-provider@${OIDC_PROVIDER}"
COPY tests/e2e/provider.mjs ./
USER node
EXPOSE 9000
CMD ["node", "provider.mjs"]
