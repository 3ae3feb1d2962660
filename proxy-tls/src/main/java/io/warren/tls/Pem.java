package io.warren.tls;

import io.warren.api.transport.TlsConfigException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PEM files with the JDK alone: certificate chains and unencrypted private keys in PKCS#8 ("PRIVATE KEY"), PKCS#1
 * ("RSA PRIVATE KEY") and SEC1 ("EC PRIVATE KEY"), the last two rewrapped as PKCS#8. Errors are
 * {@link TlsConfigException}s naming the file.
 */
final class Pem {
    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----\\s*(.*?)\\s*-----END \\1-----", Pattern.DOTALL);
    private static final byte[] RSA_ALGORITHM = {
        0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
    private static final byte[] EC_PUBLIC_KEY_OID = {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01};
    private static final String[] KEY_ALGORITHMS = {"RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS", "DSA"};

    private record Block(String type, byte[] der) {}

    private Pem() {}

    static List<X509Certificate> readCertificates(Path file) throws TlsConfigException {
        List<Block> blocks = readBlocks(file);
        List<X509Certificate> certificates = new ArrayList<>();
        CertificateFactory factory;
        try {
            factory = CertificateFactory.getInstance("X.509");
        } catch (CertificateException e) {
            throw new IllegalStateException("the JDK has no X.509 support", e);
        }
        for (Block b : blocks) {
            if (!b.type().equals("CERTIFICATE") && !b.type().equals("TRUSTED CERTIFICATE")) {
                continue;
            }
            try {
                certificates.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(b.der())));
            } catch (CertificateException | RuntimeException e) {
                throw new TlsConfigException(file, "certificate " + (certificates.size() + 1)
                        + " is not a valid X.509 certificate (" + oneLine(e) + ")", e);
            }
        }
        if (certificates.isEmpty()) {
            throw new TlsConfigException(file, "no certificate in this file (expected a '-----BEGIN CERTIFICATE-----'"
                    + " block; found " + types(blocks) + ")");
        }
        return List.copyOf(certificates);
    }

    static PrivateKey readPrivateKey(Path file) throws TlsConfigException {
        List<Block> blocks = readBlocks(file);
        for (Block b : blocks) {
            switch (b.type()) {
                case "PRIVATE KEY" -> {
                    return pkcs8(file, b.der());
                }
                case "RSA PRIVATE KEY" -> {
                    return pkcs8(file, sequence(integerZero(), RSA_ALGORITHM, octetString(b.der())));
                }
                case "EC PRIVATE KEY" -> {
                    return pkcs8(file, sec1ToPkcs8(file, b.der()));
                }
                case "ENCRYPTED PRIVATE KEY" -> throw new TlsConfigException(file, "the private key is encrypted, which"
                        + " is not supported: decrypt it (openssl pkcs8 -in KEY -out PLAIN)");
                default -> { } // EC PARAMETERS and the like: skip
            }
        }
        throw new TlsConfigException(file, "no private key in this file (expected '-----BEGIN PRIVATE KEY-----', "
                + "'RSA PRIVATE KEY' or 'EC PRIVATE KEY'; found " + types(blocks) + ")");
    }

    private static List<Block> readBlocks(Path file) throws TlsConfigException {
        String text;
        try {
            text = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
        } catch (NoSuchFileException e) {
            throw new TlsConfigException(file, "cannot read: no such file", e);
        } catch (AccessDeniedException e) {
            throw new TlsConfigException(file, "cannot read: permission denied", e);
        } catch (IOException | RuntimeException e) {
            throw new TlsConfigException(file, "cannot read: " + oneLine(e), e);
        }
        if (!text.contains("-----BEGIN ")) {
            throw new TlsConfigException(file, "not a PEM file (no '-----BEGIN' line; for DER convert with"
                    + " openssl x509 -inform der or openssl pkey -inform der)");
        }
        List<Block> blocks = new ArrayList<>();
        Matcher m = BLOCK.matcher(text);
        while (m.find()) {
            try {
                blocks.add(new Block(m.group(1), Base64.getMimeDecoder().decode(m.group(2))));
            } catch (IllegalArgumentException e) {
                throw new TlsConfigException(file, "the '" + m.group(1) + "' block is not valid base64", e);
            }
        }
        if (blocks.isEmpty()) {
            throw new TlsConfigException(file, "not a valid PEM file (a '-----BEGIN' line without a matching"
                    + " '-----END' line)");
        }
        return blocks;
    }

    private static PrivateKey pkcs8(Path file, byte[] der) throws TlsConfigException {
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
        for (String algorithm : KEY_ALGORITHMS) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (GeneralSecurityException | RuntimeException e) {
                // try the next algorithm
            }
        }
        throw new TlsConfigException(file, "the private key cannot be decoded (not RSA, EC, EdDSA or DSA, or damaged)");
    }

    /** SEC1 ECPrivateKey ::= SEQUENCE { version 1, privateKey OCTET STRING, [0] parameters OID, [1] publicKey }. */
    private static byte[] sec1ToPkcs8(Path file, byte[] sec1) throws TlsConfigException {
        try {
            int[] seq = header(sec1, 0, 0x30);
            int p = seq[0];
            int end = seq[0] + seq[1];
            while (p < end) {
                int tag = sec1[p] & 0xff;
                int[] h = header(sec1, p, tag);
                if (tag == 0xa0) { // [0] EXPLICIT: the curve OID
                    byte[] oid = java.util.Arrays.copyOfRange(sec1, h[0], h[0] + h[1]);
                    return sequence(integerZero(), sequence(EC_PUBLIC_KEY_OID, oid), octetString(sec1));
                }
                p = h[0] + h[1];
            }
        } catch (RuntimeException e) {
            throw new TlsConfigException(file, "the EC private key is damaged", e);
        }
        throw new TlsConfigException(file, "the EC private key does not name its curve; convert it to PKCS#8"
                + " (openssl pkcs8 -topk8 -nocrypt)");
    }

    /** Returns {contentOffset, contentLength} of the DER element at {@code p}, checking its tag. */
    private static int[] header(byte[] der, int p, int expectedTag) {
        if ((der[p] & 0xff) != expectedTag) {
            throw new IllegalArgumentException("unexpected DER tag");
        }
        int len = der[p + 1] & 0xff;
        int q = p + 2;
        if (len >= 0x80) {
            int n = len & 0x7f;
            len = 0;
            for (int i = 0; i < n; i++) {
                len = (len << 8) | (der[q++] & 0xff);
            }
        }
        if (q + len > der.length) {
            throw new IllegalArgumentException("DER length beyond the end");
        }
        return new int[] {q, len};
    }

    private static byte[] integerZero() {
        return new byte[] {0x02, 0x01, 0x00};
    }

    private static byte[] octetString(byte[] content) {
        return tlv(0x04, content);
    }

    private static byte[] sequence(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return tlv(0x30, out.toByteArray());
    }

    private static byte[] tlv(int tag, byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(content.length + 6);
        out.write(tag);
        int len = content.length;
        if (len < 0x80) {
            out.write(len);
        } else if (len < 0x100) {
            out.write(0x81);
            out.write(len);
        } else if (len < 0x10000) {
            out.write(0x82);
            out.write(len >> 8);
            out.write(len);
        } else {
            out.write(0x83);
            out.write(len >> 16);
            out.write(len >> 8);
            out.write(len);
        }
        out.writeBytes(content);
        return out.toByteArray();
    }

    private static String types(List<Block> blocks) {
        return blocks.stream().map(b -> "'" + b.type() + "'").distinct().reduce((a, b) -> a + ", " + b).orElse("none");
    }

    static String oneLine(Throwable t) {
        String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        return m.replaceAll("\\s+", " ").trim();
    }
}
