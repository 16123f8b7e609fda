import SunshineAgent
import SunshineTestSupport
import Testing

@Suite struct BackoffTests {
    @Test func ceilingDoublesFromHalfASecondUpToThirtySeconds() {
        var backoff = Backoff()
        var ceilings: [Duration] = []
        var generator = SeededRandom(seed: 1)
        for _ in 0..<10 {
            ceilings.append(backoff.ceiling)
            _ = backoff.next(using: &generator)
        }
        #expect(ceilings == [.milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16), .seconds(30), .seconds(30), .seconds(30), .seconds(30)])
    }

    @Test func delaysAreFullJitterBetweenZeroAndTheCeiling() {
        var generator = SeededRandom(seed: 42)
        var small = 0
        for _ in 0..<2_000 {
            var backoff = Backoff()
            for _ in 0..<5 { _ = backoff.next(using: &generator) }
            let ceiling = backoff.ceiling
            let delay = backoff.next(using: &generator)
            #expect(delay >= .zero && delay <= ceiling)
            if delay < ceiling / 2 { small += 1 }
        }
        // Uniform over [0, ceiling]: about half fall in the lower half, which plain exponential
        // backoff (always the ceiling) or "equal jitter" (never below half) would not give.
        #expect((800...1_200).contains(small))
    }

    @Test func neverOverflowsAfterManyAttempts() {
        var backoff = Backoff()
        var generator = SeededRandom(seed: 7)
        for _ in 0..<10_000 { _ = backoff.next(using: &generator) }
        #expect(backoff.ceiling == .seconds(30))
    }

    @Test func resetStartsOverFromTheBase() {
        var backoff = Backoff()
        for _ in 0..<6 { _ = backoff.next() }
        backoff.reset()
        #expect(backoff.ceiling == .milliseconds(500))
    }
}
