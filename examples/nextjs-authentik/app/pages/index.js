import { getServerSession } from 'next-auth/next';
import { signIn, signOut } from 'next-auth/react';
import { authOptions, callApi } from '../lib/auth';

export async function getServerSideProps({ req, res, query }) {
  const session = await getServerSession(req, res, authOptions);
  return {
    props: {
      user: session ? { name: session.user?.name ?? null, email: session.user?.email ?? null } : null,
      api: session?.idToken ? await callApi(session.idToken) : null,
      error: typeof query.error === 'string' ? query.error : null,
    },
  };
}

export default function Home({ user, api, error }) {
  return (
    <main style={{ fontFamily: 'sans-serif', maxWidth: '36em', margin: '3em auto' }}>
      <h1>Next.js + Authentik, one public URL</h1>
      {error && <p id="error" style={{ color: 'crimson' }}>Sign-in failed: {error} (the app&apos;s log says why)</p>}
      {user ? (
        <>
          <p id="status">Signed in as <b id="user-name">{user.name}</b> (<span id="user-email">{user.email}</span>)</p>
          {api && <p>The API says: <code id="api">{api}</code></p>}
          <button id="signout" onClick={() => signOut()}>Sign out</button>
        </>
      ) : (
        <>
          <p id="status">Not signed in</p>
          <button id="signin" onClick={() => signIn('authentik')}>Sign in with Authentik</button>
        </>
      )}
    </main>
  );
}
