"""Reference trades for tests/backtests/engine.rs, from backtesting.py.

Usage: backtesting_py_trades.py CANDLES.csv STRATEGY COMMISSION SPREAD SIZE
STRATEGY is `sma_cross` or `rsi`. Prints JSON: closed trades (bar indexes and prices), trades
still open at the end, and the final equity (open trades marked at the last close).

The strategies mean what the engine's documents in tests/backtests/engine.rs mean: signals at
the close, market orders at the next open (backtesting.py's default), exit before entry on the
same open, whole-position exits. FractionalBacktest trades in units of 1e-8, so its whole-unit
sizing rounds away far less than the comparison's tolerance.
"""
import json
import sys
import warnings

import pandas as pd
import talib
from backtesting import Strategy
from backtesting.lib import FractionalBacktest

path, kind, commission, spread, size = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:6])
frame = pd.read_csv(path, index_col=0, parse_dates=True)


def crosses_above(a, b):
    return a[-2] <= b[-2] and a[-1] > b[-1]


class SmaCross(Strategy):
    """entry: crosses_above(sma_10, sma_30); exit: crosses_below(sma_10, sma_30)."""

    def init(self):
        self.fast = self.I(talib.SMA, self.data.Close, 10)
        self.slow = self.I(talib.SMA, self.data.Close, 30)

    def next(self):
        exiting = bool(self.position) and crosses_above(self.slow, self.fast)
        if exiting:
            self.position.close()
        if (not self.position or exiting) and crosses_above(self.fast, self.slow):
            self.buy(size=size)


class RsiReversion(Strategy):
    """entry: rsi_14 < 30; exit: rsi_14 > 70 OR bars_in_trade >= 20."""

    def init(self):
        self.rsi = self.I(talib.RSI, self.data.Close, 14)

    def next(self):
        now = len(self.data) - 1
        exiting = bool(self.position) and (
            self.rsi[-1] > 70 or any(now - trade.entry_bar >= 20 for trade in self.trades)
        )
        if exiting:
            self.position.close()
        if (not self.position or exiting) and self.rsi[-1] < 30:
            self.buy(size=size)


strategy = {"sma_cross": SmaCross, "rsi": RsiReversion}[kind]
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    backtest = FractionalBacktest(frame, strategy, cash=10_000, commission=commission, spread=spread,
                                  exclusive_orders=False, finalize_trades=False)
    stats = backtest.run()
trades = stats["_trades"]
unit = backtest._fractional_unit
print(json.dumps({
    "trades": [
        {"entry_bar": int(t.EntryBar), "exit_bar": int(t.ExitBar), "entry_price": float(t.EntryPrice),
         "exit_price": float(t.ExitPrice), "size": float(t.Size)}
        for t in trades.itertuples()
    ],
    "open_trades": [
        {"entry_bar": int(t.entry_bar), "entry_price": float(t.entry_price) / unit, "size": float(t.size) * unit}
        for t in stats["_strategy"].trades
    ],
    "final_equity": float(stats["Equity Final [$]"]),
    "last_close": float(frame["Close"].iloc[-1]),
}))
