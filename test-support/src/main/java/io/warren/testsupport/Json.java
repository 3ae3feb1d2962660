package io.warren.testsupport;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Just enough JSON to read rabbitmqctl's {@code --formatter json} output: an array of flat objects. */
final class Json {

    private final String s;
    private int i;

    private Json(String s) {
        this.s = s;
    }

    /** Parses {@code [ {k: v, ...}, ... ]}; strings as is, other values as their JSON text. */
    static List<Map<String, String>> parseRows(String text) {
        Json p = new Json(text);
        List<Map<String, String>> rows = new ArrayList<>();
        p.ws();
        if (p.i >= p.s.length()) {
            return rows;
        }
        p.expect('[');
        p.ws();
        if (p.peek() == ']') {
            return rows;
        }
        while (true) {
            p.ws();
            p.expect('{');
            Map<String, String> row = new LinkedHashMap<>();
            p.ws();
            if (p.peek() == '}') {
                p.i++;
            } else {
                while (true) {
                    p.ws();
                    String key = p.string();
                    p.ws();
                    p.expect(':');
                    p.ws();
                    row.put(key, p.peek() == '"' ? p.string() : p.rawValue());
                    p.ws();
                    char c = p.s.charAt(p.i++);
                    if (c == '}') {
                        break;
                    }
                    if (c != ',') {
                        throw p.error("',' or '}'");
                    }
                }
            }
            rows.add(row);
            p.ws();
            char c = p.s.charAt(p.i++);
            if (c == ']') {
                return rows;
            }
            if (c != ',') {
                throw p.error("',' or ']'");
            }
        }
    }

    private char peek() {
        if (i >= s.length()) {
            throw error("more input");
        }
        return s.charAt(i);
    }

    private void ws() {
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
            i++;
        }
    }

    private void expect(char c) {
        if (peek() != c) {
            throw error("'" + c + "'");
        }
        i++;
    }

    private String string() {
        expect('"');
        StringBuilder b = new StringBuilder();
        while (true) {
            char c = s.charAt(i++);
            if (c == '"') {
                return b.toString();
            }
            if (c != '\\') {
                b.append(c);
                continue;
            }
            char e = s.charAt(i++);
            switch (e) {
                case 'n' -> b.append('\n');
                case 't' -> b.append('\t');
                case 'r' -> b.append('\r');
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'u' -> {
                    b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                    i += 4;
                }
                default -> b.append(e);
            }
        }
    }

    /** Skips one non-string value (number, literal, object or array) and returns its text. */
    private String rawValue() {
        int start = i;
        int depth = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == '"') {
                string();
                continue;
            }
            if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (depth == 0) {
                    break;
                }
                depth--;
            } else if (c == ',' && depth == 0) {
                break;
            }
            i++;
        }
        String raw = s.substring(start, i).strip();
        return "null".equals(raw) ? "" : raw;
    }

    private IllegalArgumentException error(String expected) {
        return new IllegalArgumentException("bad JSON from rabbitmqctl at " + i + ", expected " + expected
                + ": " + s);
    }
}
