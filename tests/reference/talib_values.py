"""Reference indicator values for tests/backtests/engine.rs.

Reads a candle CSV (pandas layout: dates in the first, unnamed column) and prints JSON
{column name: [value or null per bar]} computed by the TA-Lib Python package, and by the
published definitions (written here with pandas, independently of the Rust code) for HMA, CMF
and VWAP, which TA-Lib lacks. The column names are the engine's for the strategy
tests/reference/all_indicators.yaml.
"""
import json
import math
import sys

import numpy as np
import pandas as pd
import talib

frame = pd.read_csv(sys.argv[1], index_col=0, parse_dates=True)
o, h, l, c, v = (frame[name].astype(float).to_numpy() for name in ("Open", "High", "Low", "Close", "Volume"))


def wma(x, n):
    return talib.WMA(x, timeperiod=n)


def hma(x, n):
    # Alan Hull: WMA(2 * WMA(n/2) - WMA(n), sqrt(n)).
    return wma(2 * wma(x, n // 2) - wma(x, n), int(math.floor(math.sqrt(n))))


def cmf(n):
    # Marc Chaikin: sum of money flow volume over n bars / sum of volume over n bars.
    rng = h - l
    mfv = np.where(rng > 0, ((c - l) - (h - c)) / np.where(rng > 0, rng, 1) * v, 0.0)
    flow = pd.Series(mfv).rolling(n).sum()
    volume = pd.Series(v).rolling(n).sum()
    return (flow / volume.where(volume > 0)).to_numpy()


def vwap(reset):
    typical = (h + l + c) / 3
    frame_ = pd.DataFrame({"pv": typical * v, "v": v}, index=frame.index)
    if reset == "none":
        keys = np.zeros(len(frame_), dtype=int)
    elif reset == "daily":
        keys = frame_.index.normalize()
    else:
        keys = frame_.index.to_period("W-SUN").start_time
    grouped = frame_.groupby(keys)
    pv = grouped["pv"].cumsum()
    vol = grouped["v"].cumsum()
    return (pv / vol.where(vol > 0)).to_numpy()


macd, macd_signal, macd_hist = talib.MACD(c, fastperiod=12, slowperiod=26, signalperiod=9)
macd_fast, macd_fast_signal, macd_fast_hist = talib.MACD(c, fastperiod=5, slowperiod=35, signalperiod=5)
slowk, slowd = talib.STOCH(h, l, c, fastk_period=14, slowk_period=3, slowk_matype=0, slowd_period=3, slowd_matype=0)
upper, middle, lower = talib.BBANDS(c, timeperiod=20, nbdevup=2.0, nbdevdn=2.0, matype=0)
rsi = talib.RSI(c, timeperiod=14)
columns = {
    "sma_20": talib.SMA(c, timeperiod=20),
    "sma_hl2": talib.SMA(talib.MEDPRICE(h, l), timeperiod=10),
    "sma_hlc3": talib.SMA(talib.TYPPRICE(h, l, c), timeperiod=10),
    "sma_ohlc4": talib.SMA(talib.AVGPRICE(o, h, l, c), timeperiod=10),
    "wma_20": talib.WMA(c, timeperiod=20),
    "ema_12": talib.EMA(c, timeperiod=12),
    "ema_200": talib.EMA(c, timeperiod=200),
    "hma_14": hma(c, 14),
    "hma_9": hma(c, 9),
    "kama_10": talib.KAMA(c, timeperiod=10),
    "macd_std.macd": macd,
    "macd_std.signal": macd_signal,
    "macd_std.histogram": macd_hist,
    "macd_odd.macd": macd_fast,
    "macd_odd.signal": macd_fast_signal,
    "macd_odd.histogram": macd_fast_hist,
    "rsi_14": rsi,
    "rsi_2": talib.RSI(c, timeperiod=2),
    "rsi_smooth": talib.EMA(rsi, timeperiod=5),
    "stoch.k": slowk,
    "stoch.d": slowd,
    "willr_14": talib.WILLR(h, l, c, timeperiod=14),
    "cci_20": talib.CCI(h, l, c, timeperiod=20),
    "roc_12": talib.ROC(c, timeperiod=12),
    "mom_10": talib.MOM(c, timeperiod=10),
    "bb_20.upper": upper,
    "bb_20.middle": middle,
    "bb_20.lower": lower,
    "bb_20.percent_b": (c - lower) / (upper - lower),
    "bb_20.bandwidth": (upper - lower) / middle,
    "atr_14": talib.ATR(h, l, c, timeperiod=14),
    "adx_14": talib.ADX(h, l, c, timeperiod=14),
    "std_20": talib.STDDEV(c, timeperiod=20, nbdev=1),
    "obv": talib.OBV(c, v),
    "ad": talib.AD(h, l, c, v),
    "cmf_20": cmf(20),
    "vwap_all": vwap("none"),
    "vwap_day": vwap("daily"),
    "vwap_week": vwap("weekly"),
}


def cell(value):
    return None if not np.isfinite(value) else float(value)


json.dump({name: [cell(x) for x in values] for name, values in columns.items()}, sys.stdout)
