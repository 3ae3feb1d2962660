package io.warren.api.transport;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A TLS file that cannot be used. The message is one line and starts with the file: {@code "/etc/warren/key.pem:
 * the private key does not match the certificate in /etc/warren/cert.pem"}.
 */
public final class TlsConfigException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;

    public TlsConfigException(Path file, String problem) {
        this(file, problem, null);
    }

    public TlsConfigException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The offending file. */
    public Path file() {
        return file;
    }
}
