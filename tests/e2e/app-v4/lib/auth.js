import AuthentikProvider from 'next-auth/providers/authentik';

// ONE public URL for the identity provider. The browser and this server both
// use it; inside the container "auth.localhost" does not reach the provider,
// and hostshim (LD_PRELOAD) sends this server's connections to server:9000
// while the Host header stays "auth.localhost".
const issuer = process.env.AUTHENTIK_ISSUER || 'http://auth.localhost/application/o/e2e/';

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
  callbacks: {
    // Keep the provider's ID token in the session cookie (encrypted, never
    // shown to the browser), for the Go API the server side calls.
    async jwt({ token, account }) {
      if (account?.id_token) token.idToken = account.id_token;
      return token;
    },
  },
};
