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
  callbacks: {
    // Keep Authentik's ID token (in NextAuth's encrypted session cookie)
    // to call the API with it: the API checks it against the same public
    // issuer URL (see ../api/main.go).
    async jwt({ token, account }) {
      if (account?.id_token) token.idToken = account.id_token;
      return token;
    },
    async session({ session, token }) {
      session.idToken = token.idToken;
      return session;
    },
  },
};

// The API's answer for this session's ID token: GET API_URL/me with
// "Authorization: Bearer <id_token>", from the server side (the API is on
// the compose network only). The same call by hand, from a container there:
//   curl -H "Authorization: Bearer $ID_TOKEN" http://api:8000/me
// with ID_TOKEN from the session (GET /api/auth/session, "idToken").
export async function callApi(idToken) {
  const url = `${process.env.API_URL || 'http://api:8000'}/me`;
  try {
    const res = await fetch(url, { headers: { authorization: `Bearer ${idToken}` }, signal: AbortSignal.timeout(5000) });
    return `${res.status} ${await res.text()}`.trim();
  } catch (err) {
    return `no answer from ${url}: ${err.cause?.code || err.message}`;
  }
}
