import { getServerSession } from 'next-auth/next';
import { getToken } from 'next-auth/jwt';
import { signIn, signOut } from 'next-auth/react';
import { authOptions } from '../lib/auth';

// The Go API (examples/nextjs-authentik/api) checks the ID token against the
// provider's PUBLIC issuer URL; it runs under hostshim's supervised mode.
async function askApi(req) {
  const url = process.env.E2E_API_URL;
  if (!url) return null;
  try {
    const token = await getToken({ req, secret: process.env.NEXTAUTH_SECRET });
    const r = await fetch(`${url}/me`, { headers: { Authorization: `Bearer ${token?.idToken ?? ''}` } });
    return `${r.status} ${(await r.text()).trim()}`;
  } catch (e) {
    return `error ${e.cause?.code ?? e.message}`;
  }
}

export async function getServerSideProps({ req, res, query }) {
  const session = await getServerSession(req, res, authOptions);
  return {
    props: {
      user: session ? { name: session.user?.name ?? null, email: session.user?.email ?? null } : null,
      error: typeof query.error === 'string' ? query.error : null,
      api: session ? await askApi(req) : null,
    },
  };
}

export default function Home({ user, error, api }) {
  return (
    <main style={{ fontFamily: 'sans-serif', maxWidth: '36em', margin: '3em auto' }}>
      <h1>hostshim e2e: NextAuth.js v4</h1>
      {error && <p id="error" style={{ color: 'crimson' }}>Sign-in failed: {error}</p>}
      {user ? (
        <>
          <p id="status">Signed in as <b id="user-name">{user.name}</b> (<span id="user-email">{user.email}</span>)</p>
          {api && <p>Go API: <code id="api">{api}</code></p>}
          <button id="signout" onClick={() => signOut()}>Sign out</button>
        </>
      ) : (
        <>
          <p id="status">Not signed in</p>
          <button id="signin" onClick={() => signIn('authentik')}>Sign in</button>
        </>
      )}
    </main>
  );
}
