import AuthentikProvider from 'next-auth/providers/authentik';

// ONE public URL for Authentik: the one the browser uses.
//
// Inside the app's container "auth.localhost" does not reach Authentik (it is
// 127.0.0.1 there). hostshim, preloaded by the Dockerfile, sends this server's
// connections for auth.localhost to server:9000 (see shim.ini) and leaves the
// Host header alone, so Authentik answers with the same public issuer and
// endpoints that the browser sees.
const issuer = process.env.AUTHENTIK_ISSUER || 'http://auth.localhost/application/o/nextjs/';

export const authOptions = {
  providers: [
    AuthentikProvider({
      clientId: process.env.AUTHENTIK_CLIENT_ID,
      clientSecret: process.env.AUTHENTIK_CLIENT_SECRET,
      issuer,
      wellKnown: `${issuer}.well-known/openid-configuration`,
    }),
  ],
  pages: { signIn: '/', error: '/' },
  session: { strategy: 'jwt' },
};
