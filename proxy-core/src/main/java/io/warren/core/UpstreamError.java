package io.warren.core;

import io.warren.codec.ReplyCode;

/** Why an upstream connection failed or refused, as the client will be told (code and full reply text). */
record UpstreamError(int code, String text, int classId, int methodId) {
    static UpstreamError of(ReplyCode code, String detail) {
        return new UpstreamError(code.code(), Frames.truncate(code.text() + " - " + detail), 0, 0);
    }

    /** This error as told to a client refused at once because Warren backs off before trying the broker again. */
    UpstreamError backingOff(long nanosToNextAttempt) {
        long millis = Math.max(1, java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(nanosToNextAttempt));
        return new UpstreamError(code, Frames.truncate(text + "; next attempt in " + millis + " ms"), classId,
                methodId);
    }
}
