// KeepAddress: a Java client that resolves a name once and keeps the
// InetAddress (as Java's address cache, resolve-once clients and connection
// pools do), then connects to it and GETs / every 50 ms for a while. Each
// round it also looks up a name of its own that does not exist (Java
// caches every answer, so a fresh name), which is where the library
// notices an edit of its configuration.
//
// usage: java KeepAddress NAME PORT SECONDS
// Output, one line a round: "t=MS body=BODY" or "t=MS errno=ENAME" (MS:
// wall clock in ms; ENAME: EHOSTUNREACH, ECONNREFUSED or the exception).
import java.io.*;
import java.net.*;

public class KeepAddress {
    public static void main(String[] args) throws Exception {
        InetAddress kept = InetAddress.getByName(args[0]);
        int port = Integer.parseInt(args[1]);
        long end = System.currentTimeMillis() + 1000L * Integer.parseInt(args[2]);
        System.out.println("kept " + kept.getHostAddress());
        for (int i = 0; System.currentTimeMillis() < end; i++) {
            try {
                InetAddress.getAllByName("r" + i + ".nowhere.test");
            } catch (UnknownHostException e) {
                // expected
            }
            long t = System.currentTimeMillis();
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(kept, port), 2000);
                s.setSoTimeout(2000);
                OutputStream out = s.getOutputStream();
                out.write(("GET / HTTP/1.0\r\nHost: " + args[0] + "\r\n\r\n").getBytes("US-ASCII"));
                out.flush();
                BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), "US-ASCII"));
                String line, body = "none";
                boolean inBody = false;
                while ((line = in.readLine()) != null) {
                    if (inBody) { body = line; break; }
                    if (line.isEmpty()) inBody = true;
                }
                System.out.println("t=" + t + " body=" + body);
            } catch (IOException e) {
                String m = String.valueOf(e.getMessage());
                String name = m.contains("No route to host") ? "EHOSTUNREACH"
                        : m.contains("Connection refused") ? "ECONNREFUSED"
                        : e.getClass().getSimpleName();
                System.out.println("t=" + t + " errno=" + name);
            }
            System.out.flush();
            Thread.sleep(50);
        }
    }
}
