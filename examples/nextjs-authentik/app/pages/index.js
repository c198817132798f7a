import { getServerSession } from 'next-auth/next';
import { signIn, signOut } from 'next-auth/react';
import { authOptions } from '../lib/auth';

export async function getServerSideProps({ req, res, query }) {
  const session = await getServerSession(req, res, authOptions);
  return {
    props: {
      user: session ? { name: session.user?.name ?? null, email: session.user?.email ?? null } : null,
      error: typeof query.error === 'string' ? query.error : null,
    },
  };
}

export default function Home({ user, error }) {
  return (
    <main style={{ fontFamily: 'sans-serif', maxWidth: '36em', margin: '3em auto' }}>
      <h1>Next.js + Authentik, one public URL</h1>
      {error && <p style={{ color: 'crimson' }}>Sign-in failed: {error} (the app&apos;s log says why)</p>}
      {user ? (
        <>
          <p>Signed in as <b>{user.name}</b> ({user.email})</p>
          <button onClick={() => signOut()}>Sign out</button>
        </>
      ) : (
        <>
          <p>Not signed in</p>
          <button onClick={() => signIn('authentik')}>Sign in with Authentik</button>
        </>
      )}
    </main>
  );
}
