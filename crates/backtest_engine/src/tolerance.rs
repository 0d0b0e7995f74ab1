//! What TA-Lib counts as zero, so that the whole-series indicators and their streamed twins
//! divide (and refuse to divide) exactly where TA-Lib does.

/// TA-Lib treats magnitudes below 1e-8 as zero in some divisions (its `TA_IS_ZERO`).
pub(crate) const TA_LIB_EPSILON: f64 = 0.000_000_01;

pub(crate) fn is_zero(value: f64) -> bool {
    -TA_LIB_EPSILON < value && value < TA_LIB_EPSILON
}
