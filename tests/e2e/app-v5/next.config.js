/** @type {import('next').NextConfig} */
module.exports = {
  poweredByHeader: false,
  // (Next.js 16's `next build` no longer runs ESLint: no `eslint` key.)
};
