import NextAuth from 'next-auth';
import Authentik from 'next-auth/providers/authentik';

// ONE public URL for the identity provider (Auth.js v5 discovers from the
// issuer with oauth4webapi over fetch).
export const { handlers, auth, signIn, signOut } = NextAuth({
  providers: [
    Authentik({
      clientId: process.env.AUTHENTIK_CLIENT_ID,
      clientSecret: process.env.AUTHENTIK_CLIENT_SECRET,
      issuer: process.env.AUTHENTIK_ISSUER || 'http://auth.localhost/application/o/e2e/',
    }),
  ],
  pages: { signIn: '/', error: '/' },
  trustHost: true,
  // Auth.js's default logger drops the network error behind "fetch failed";
  // print the whole cause chain (e.g. "connect ECONNREFUSED 127.0.0.1:80").
  logger: {
    error(error) {
      console.error('[auth][error]', error?.type || error?.name, error?.message);
      for (let c = error?.cause, depth = 0; c && depth < 5; c = c.cause, depth += 1) {
        console.error('[auth][cause]', c instanceof Error ? `${c.name}: ${c.message}` : c.err ? `${c.err.name}: ${c.err.message}${c.err.cause ? ` (cause: ${c.err.cause.code || ''} ${c.err.cause.message})` : ''}` : JSON.stringify(c));
      }
    },
  },
});
