import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The container image's health check: GET /readyz on Warren's HTTP endpoint, exit 0 on 200 and 1 otherwise (with the
 * status line or the error on stdout, which Docker keeps as the check's output). The image has no shell and no curl,
 * so this runs on its Java runtime. The endpoint is the {@code http} setting, found as Warren finds it: WARREN_HTTP,
 * else the {@code http} key of the WARREN_CONFIG file, else the default 127.0.0.1:15673; a wildcard host (0.0.0.0,
 * [::]) is probed on loopback.
 */
public final class ReadyProbe {
    public static void main(String[] args) {
        String http = Optional.ofNullable(System.getenv("WARREN_HTTP")).filter(s -> !s.isBlank())
                .or(ReadyProbe::fromConfigFile).orElse("127.0.0.1:15673").strip();
        if (http.equals("off")) {
            System.out.println("http is off: nothing to probe");
            System.exit(1);
        }
        int colon = http.lastIndexOf(':');
        String host = http.substring(0, colon).replace("[", "").replace("]", "");
        if (host.equals("0.0.0.0") || host.isEmpty()) {
            host = "127.0.0.1";
        } else if (host.equals("::")) {
            host = "::1";
        }
        int port = Integer.parseInt(http.substring(colon + 1));
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 2000);
            s.setSoTimeout(4000);
            OutputStream out = s.getOutputStream();
            out.write(("GET /readyz HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            String response = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            String status = response.lines().findFirst().orElse("");
            String body = response.contains("\r\n\r\n") ? response.substring(response.indexOf("\r\n\r\n") + 4) : "";
            System.out.println(status + " " + body.strip());
            System.exit(status.matches("HTTP/1\\.[01] 200( .*)?") ? 0 : 1);
        } catch (IOException | RuntimeException e) {
            System.out.println("GET http://" + http + "/readyz: " + e);
            System.exit(1);
        }
    }

    private static Optional<String> fromConfigFile() {
        String file = System.getenv("WARREN_CONFIG");
        if (file == null || file.isBlank()) {
            return Optional.empty();
        }
        try {
            return Files.readAllLines(Path.of(file)).stream().map(String::strip)
                    .filter(l -> l.startsWith("http") && l.substring(4).strip().startsWith("="))
                    .map(l -> l.substring(l.indexOf('=') + 1).strip()).findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
