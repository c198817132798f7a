import { auth, signIn, signOut } from '../auth';

export const dynamic = 'force-dynamic';

export default async function Home({ searchParams }) {
  const session = await auth();
  // Next.js 15+ hands searchParams over as a promise.
  const params = (await searchParams) ?? {};
  const error = typeof params.error === 'string' ? params.error : null;
  const user = session?.user;
  return (
    <main style={{ fontFamily: 'sans-serif', maxWidth: '36em', margin: '3em auto' }}>
      <h1>hostshim e2e: Auth.js v5</h1>
      {error && <p id="error" style={{ color: 'crimson' }}>Sign-in failed: {error}</p>}
      {user ? (
        <>
          <p id="status">Signed in as <b id="user-name">{user.name}</b> (<span id="user-email">{user.email}</span>)</p>
          <form action={async () => { 'use server'; await signOut(); }}>
            <button id="signout" type="submit">Sign out</button>
          </form>
        </>
      ) : (
        <>
          <p id="status">Not signed in</p>
          <form action={async () => { 'use server'; await signIn('authentik'); }}>
            <button id="signin" type="submit">Sign in</button>
          </form>
        </>
      )}
    </main>
  );
}
