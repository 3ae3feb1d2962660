package io.warren.core;

import io.warren.codec.ReplyCode;

/** Why an upstream connection failed or refused, as the client will be told (code and full reply text). */
record UpstreamError(int code, String text, int classId, int methodId) {
    static UpstreamError of(ReplyCode code, String detail) {
        return new UpstreamError(code.code(), Frames.truncate(code.text() + " - " + detail), 0, 0);
    }
}
