package io.warren.core.internal.upstream;

import io.warren.codec.ReplyCode;
import io.warren.core.internal.wire.Frames;

/** Why an upstream connection failed or refused, as the client will be told (code and full reply text). */
public record UpstreamError(int code, String text, int classId, int methodId) {
    public static UpstreamError of(ReplyCode code, String detail) {
        return new UpstreamError(code.code(), Frames.truncate(code.text() + " - " + detail), 0, 0);
    }

    /** This error as told to a client refused at once because Warren backs off before trying the broker again. */
    public UpstreamError backingOff(long nanosToNextAttempt) {
        long millis = Math.max(1, java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(nanosToNextAttempt));
        return new UpstreamError(code, Frames.truncate(text + "; next attempt in " + millis + " ms"), classId,
                methodId);
    }
}
