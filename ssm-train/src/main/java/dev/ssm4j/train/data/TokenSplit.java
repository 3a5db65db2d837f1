package dev.ssm4j.train.data;

import java.util.Arrays;

/**
 * Train/eval split of a token array: the LAST {@code evalFraction} of the tokens (rounded to the
 * nearest token) are the eval set, the rest the training set. Contiguous, so no window of one set
 * overlaps the other. {@code train = tokens[0, n − e)}, {@code eval = tokens[n − e, n)} with
 * {@code e = round(n · evalFraction)}.
 */
public record TokenSplit(int[] train, int[] eval) {
    public static TokenSplit of(int[] tokens, double evalFraction) {
        if (!(evalFraction >= 0 && evalFraction < 1)) {
            throw new IllegalArgumentException("evalFraction is " + evalFraction + ", expected a number in [0, 1)");
        }
        int e = (int) Math.round(tokens.length * evalFraction);
        int cut = tokens.length - e;
        return new TokenSplit(Arrays.copyOfRange(tokens, 0, cut), Arrays.copyOfRange(tokens, cut, tokens.length));
    }
}
