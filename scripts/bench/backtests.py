"""The Python side of scripts/bench/backtests: writes the synthetic candles, and times
backtesting.py and vectorbt on them with the strategy of benches/backtest.rs:
SMA 50/200 crossover entry with RSI 14 < 70, exit on the cross down or close above the upper
Bollinger band (20, 2), 5% stop-loss, ATR 14 computed as the fifth indicator, 0.1% commission.
Indicators come from TA-Lib on both sides; timings include indicators and simulation, after a
warm-up run (numba compiles vectorbt's kernels once).
"""
import sys
import time
import warnings

import numpy as np
import pandas as pd
import talib


def write(path, bars):
    rng = np.random.default_rng(7)
    steps = 1 + (rng.random(bars) - 0.5) * 0.02
    close = 100 * np.cumprod(steps)
    open_ = np.concatenate([[100.0], close[:-1]])
    high = np.maximum(open_, close) * (1 + rng.random(bars) * 0.005)
    low = np.minimum(open_, close) * (1 - rng.random(bars) * 0.005)
    volume = 1000 + rng.random(bars) * 1000
    time_ = 1_500_000_000 + np.arange(bars) * 3600
    pd.DataFrame({"time": time_, "open": open_, "high": high, "low": low, "close": close,
                  "volume": volume}).to_csv(path, index=False, float_format="%.10g")


def load(path):
    frame = pd.read_csv(path)
    frame.index = pd.to_datetime(frame["time"], unit="s")
    return frame.rename(columns=str.capitalize)[["Open", "High", "Low", "Close", "Volume"]]


def signals(o, h, l, c):
    fast, slow = talib.SMA(c, 50), talib.SMA(c, 200)
    rsi = talib.RSI(c, 14)
    upper, _, _ = talib.BBANDS(c, 20, 2.0, 2.0)
    talib.ATR(h, l, c, 14)
    with np.errstate(invalid="ignore"):
        above = (np.roll(fast, 1) <= np.roll(slow, 1)) & (fast > slow)
        below = (np.roll(fast, 1) >= np.roll(slow, 1)) & (fast < slow)
        return above & (rsi < 70), below | (c > upper)


def report(name, bars, seconds):
    print(f"{name}: {bars} bars in {seconds:.3f} s = {bars / seconds:,.0f} bars/s")


def bench_vectorbt(frame):
    import vectorbt as vbt

    def run(frame):
        o, h, l, c = (frame[k].to_numpy() for k in ("Open", "High", "Low", "Close"))
        entries, exits = signals(o, h, l, c)
        # Signals at the close, fills at the next open.
        entries = pd.Series(np.roll(entries, 1), index=frame.index)
        exits = pd.Series(np.roll(exits, 1), index=frame.index)
        portfolio = vbt.Portfolio.from_signals(
            frame["Close"], entries, exits, price=frame["Open"], open=frame["Open"], high=frame["High"],
            low=frame["Low"], sl_stop=0.05, fees=0.001, size=0.95, size_type="percent", init_cash=10_000)
        return portfolio.final_value()

    run(frame.iloc[:5000])
    started = time.perf_counter()
    run(frame)
    report("vectorbt", len(frame), time.perf_counter() - started)


def bench_backtesting(frame):
    from backtesting import Backtest, Strategy

    class FiveIndicators(Strategy):
        def init(self):
            c, h, l = self.data.Close, self.data.High, self.data.Low
            self.fast = self.I(talib.SMA, c, 50)
            self.slow = self.I(talib.SMA, c, 200)
            self.rsi = self.I(talib.RSI, c, 14)
            self.upper = self.I(lambda x: talib.BBANDS(x, 20, 2.0, 2.0)[0], c)
            self.atr = self.I(talib.ATR, h, l, c, 14)

        def next(self):
            f, s = self.fast, self.slow
            if self.position and ((f[-2] >= s[-2] and f[-1] < s[-1]) or self.data.Close[-1] > self.upper[-1]):
                self.position.close()
            elif not self.position and f[-2] <= s[-2] and f[-1] > s[-1] and self.rsi[-1] < 70:
                self.buy(size=0.95, sl=self.data.Close[-1] * 0.95)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started = time.perf_counter()
        Backtest(frame, FiveIndicators, cash=1e12, commission=0.001).run()
        report("backtesting.py", len(frame), time.perf_counter() - started)


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "write":
        write(sys.argv[2], int(sys.argv[3]))
    elif command == "vectorbt":
        bench_vectorbt(load(sys.argv[2]))
    else:
        bench_backtesting(load(sys.argv[2]))
