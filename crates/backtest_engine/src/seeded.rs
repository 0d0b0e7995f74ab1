//! Seeded random numbers for the engine's tests: the same series on every run and machine, with
//! no dependency (xorshift64, its top 53 bits as a fraction).

/// Uniform numbers in [0, 1), the same sequence for the same seed.
pub fn uniforms(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    }
}
