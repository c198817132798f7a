export const metadata = { title: 'hostshim e2e: Auth.js v5' };

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
