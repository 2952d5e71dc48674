"""Intent scoring and argument assembly (with the session context) on top of the recognisers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from quantops.chat.planner import lexicon as lx
from quantops.chat.planner.reading import SYMBOL_REF, Issue, Reading, _param_value, conflicts, read
from quantops.language import Language, detect_language

INTENTS: tuple[str, ...] = (
    "run_backtest",
    "get_backtest",
    "cancel_backtest",
    "list_backtests",
    "list_strategies",
    "create_strategy",
    "compare_strategies",
    "cache_status",
    "market_data",
    "help",
)


@dataclass(slots=True)
class PlanProblem:
    """Something the user must answer: a slot missing, invalid, ambiguous, or a number nobody read."""

    field: str
    kind: str  # missing | invalid | ambiguous | unclaimed
    value: str | None
    message_en: str
    message_ko: str


@dataclass(slots=True)
class Plan:
    """What the planner understood: the tool to call (``intent``) and its arguments."""

    intent: str
    args: dict[str, Any] = field(default_factory=dict)
    language: Language = "en"
    missing: list[str] = field(default_factory=list)
    # Which slots came from earlier turns rather than from this utterance (shown in metadata).
    from_context: list[str] = field(default_factory=list)
    problems: list[PlanProblem] = field(default_factory=list)
    stated: dict[str, str] = field(default_factory=dict)
    period_relative: bool = False
    score: float | None = None
    alternatives: list[tuple[str, float]] = field(default_factory=list)


# ---- cues -------------------------------------------------------------------------------------------------
_CUES: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern, re.I)
    for name, pattern in {
        "backtest_word": r"back-?test(?:s|ing|ed)?|백테스트|백테스팅|백테",
        "backtests_plural": (
            r"back-?tests\b|\bruns\b|\bjobs\b|백테스트들|백테스트만|백테스트\s*전체|백테스트\s*(?:목록|리스트|내역|기록|전부|다)|백테들|백테\s*(?:목록|리스트|내역|기록|전부)|돌린\s*(?:것들|거\s*전부|거\s*다|목록)"
        ),
        "strategy_word": r"\bstrateg(?:y|ies)\b|전략",
        "strategies_plural": (
            r"\bstrategies\b|전략들|전략\s*(?:목록|리스트)|저장된\s*전략|내\s*전략|전략\s*(?:뭐|뭐가)?\s*있"
        ),
        "run": (
            r"\brun\b|\brerun\b|\bre-run\b|\btest\b|\bsimulate\b|\btry\b|\bexecute\b|"
            r"\bdo\s+(?:it|that|the\s+same)\b|돌려|돌리|실행(?!\s*중)|(?<!백)테스트|시뮬|해\s*봐|해봐|해\s*줘|해줘|부탁|"
            r"how\s+would|what\s+if|would\s+have|했다면|였다면|어떨까|어땠을까"
        ),
        "show": (
            r"\bshow\b|\bdisplay\b|\bsee\b|\bgive\b|\bget\b|\bopen\b|\bfetch\b|\bview\b|\bpull\s+up\b|"
            r"\bcheck\b|보여|알려|확인|조회|볼래|봐줘"
        ),
        "last_one": (
            r"\b(?:last|latest|most\s+recent|newest)\s+(?:back-?test|run|result)\b(?!s)|"
            r"(?:마지막|최근|방금)\s*(?:백테스트|결과)(?!들|\s*(?:목록|리스트|\d))"
        ),
        "result": (
            r"\b(?:is|was)\s+(?:it|that|this)\s+(?:done|finished|completed?|ready)\b|"
            r"\bresults?\b|\bstats\b|\bperformance\b|\bhow\s+did\b|\bhow'?s\b|\bwhat\s+happened\b|"
            r"\bstatus\b|\bdetails?\b|\boutcome\b|\bdone\s+yet\b|\bfinished\s+yet\b|결과|성과|성적|상태|어떻게\s*됐|"
            r"어땠(?!을)|나왔|끝났"
        ),
        "list": (
            r"\blist\b|\ball\b|\bmy\b|\bhistory\b|\brecent\b|\blatest\b|\bany\b|목록|리스트|전부|모든|내역|기록|최근|"
            r"뭐\s*있|있어|어떤|다\s*보여"
        ),
        "create": (
            r"\bcreate\b|\bsave\b|\bmake\b|\bnew\b|\bdefine\b|\badd\b|\bregister\b|\bstore\b|만들|저장(?!된)|"
            r"생성|등록|추가|새\s*전략|새로운\s*전략|신규\s*전략"
        ),
        "compare": (
            r"\bcompare\b|\bcomparison\b|\bversus\b|\bvs\.?(?![a-z])|\brank\b(?=.*(?:strateg|전략))|\bhead[\s\-]*to[\s\-]*head\b|비교|순위|"
            r"\bstack\s+up\b|\bmeasure\s+up\b|\bhold\s+up\b|\bfare[sd]?\b|\bcompare[sd]?\b"
        ),
        "which_better": (
            r"\bwhich\b.*\b(?:better|best|worse|worst|more|less|higher|lower|most|least|won|wins?)\b|"
            r"\b(?:did|does|was|is)\s+better\b|\bbeat\b|\boutperform|뭐가\s*더|어느\s*(?:게|것이|쪽이?|전략이?)\s*(?:더|"
            r"가장|제일)|중에\s*(?:뭐가|어느|어떤)|중\s*(?:뭐가|어느|어떤)|누가\s*더|더\s*(?:나았|좋았|나아|좋아|잘)|이겼|뭐가\s*(?:가장|제일)|"
            # "X랑 Y 중에 승률 높은 게 어떤 거야?", "is X better than Y?"
            r"중(?:에서|에)?\s.*(?:어떤\s*(?:거|게|것|전략)|뭐(?:야|가|였)|어느|누가)|\bbetter\s+than\b"
        ),
        "best": (
            r"\bbest\b|\btop\b|\bhighest\b|\bgreatest\b|\bwinner\b|\bbiggest\b|\bmost\b(?!\s+recent)|최고|(?:제일|"
            r"가장|젤)\s*(?:좋|높|잘|많)|1등|베스트|상위|(?:높은|좋은|큰|많은)\s*순"
        ),
        "worst": (
            r"\bworst\b|\blowest\b|\bbottom\b|\bloser\b|\bsmallest\b|\bleast\b|최악|(?:제일|가장|젤)\s*(?:나쁜|낮|못|"
            r"적|안\s*좋|구린|구려|별로)|꼴찌|워스트|하위"
        ),
        "cancel": (
            r"\bcancel\b|\babort\b|\bkill\b|\bterminate\b|"
            r"(?<!trailing )(?<!%)(?<!% )\bstop\b(?!\s*-?\s*loss)|\bhalt\b|"
            r"취소(?!된|한|됐)|중단|중지|멈춰|멈추|그만"
        ),
        "cache": (
            r"\bcache[ds]?\b|캐시|(?:데이터|종목)\S*\s*(?:뭐\s*뭐|뭐가|뭐|어떤\s*거)\s*(?:받아|있|저장|다운)|받아\s*(?:져|진|놓은|둔)|"
            r"\b(?:which|what)\s+(?:symbols|tickers|stocks)\b|\bavailable\s+(?:symbols|tickers)\b|"
            r"(?:어떤|무슨)\s*종목|종목\s*(?:목록|리스트)"
        ),
        "market": (
            r"\bprices?\b|\bquotes?\b|\bbars\b|\bcandles?\b|\bmarket\s*data\b|\bdata\b|\bohlcv?\b|"
            r"\bchart\b|\bcloses?\b|\bclosing\b|\btrading\s+at\b|\bworth\b|\bohlc\b|시세|가격|주가|데이터|차트|종가|시가|"
            r"캔들|(?<![가-힣])봉(?![가-힣])|\d\s*봉"
        ),
        # a question about a concept ("what is a golden cross?", "RSI가 뭐야?"): explained by help, not run
        "explain": (
            r"^(?!.*(?:status|results?|prices?|close|cache|back-?tests?|strategies|running|pending|queued|결과|상태|가격|주가|시세|백테스트|목록))"
            r"(?:.*\bexplain\b|.*\bhow\s+does\b.*\bwork|.*\bwhat\s+does\b.*\bmean\b|"
            r"\s*what(?:'s|\s+is|\s+are)\s+(?:a\s+|an\s+)?(?:[\w&/-]+\s*){1,3}\?\s*$|"
            r".*(?:이|가|란|은|는)\s*(?:뭐야|뭔가요|무엇인가요|뭐지)\??\s*$|.*설명해|.*어떻게\s*작동)"
        ),
        # what the platform offers ("지원하는 전략 뭐 있어?", "what metrics can you compare?"): help
        "capabilities": (
            r"지원(?:하는|되는)|사용\s*방법|\bsupported\b|\bavailable\s+(?:strategies|strategy\s+types|indicators|metrics)\b|"
            r"\bstrateg(?:y|ies)\s+(?:types\s+)?(?:are\s+)?(?:available|supported|offered)\b|\bwhat\s+(?:metrics|indicators)\b|"
            r"(?:어떤|무슨)\s*지표|(?:어떤|무슨)\s*전략을?\s*(?:쓸|사용할)\s*수"
        ),
        # an elliptical follow-up ("and on MSFT?", "what about 2015-2018?", "테슬라는?", "그럼 NVDA로")
        "ellipsis": (
            r"^\s*(?:and|also|then|ok(?:ay)?\s+(?:and|now))\b|^\s*(?:what|how)\s+about\b|^\s*(?:그럼|그러면|그리고)|"
            r"(?:은|는)\s*(?:요)?\s*\??\s*$|(?:은|는)\s*어때"
        ),
        "help": (
            r"\bstrategy\s+types\b|\b(?:which|what)\s+(?:kinds?\s+of\s+)?strategies\s+(?:are|do\s+you)\s+"
            r"(?:supported|available|offer|support)|\bsupported\s+strategies\b|지원(?:하는|되는)\s*전략|"
            r"\bhelp\b|what\s+can\s+you\s+do|\bcommands?\b|how\s+do\s+i\s+use|\bhello\b|\bhi\b|\bhey\b|"
            r"도움말|도와줘|뭘?\s*할\s*수|무엇을\s*할\s*수|사용법|기능|안녕|뭐\s*할\s*수|what\s+do\s+you\s+do"
        ),
        "reference": (
            r"(?<![가-힣])이\s+(?:전략|백테스트|결과|거|것|설정)|"
            r"\bthose\b|\bthese\b|\bboth\b|둘\s*중|두\s*(?:개|전략)\s*중|"
            r"\bit\b|\bthat\b|\bthis\b|\bsame\b|\bagain\b|\blast\s+one\b|\bprevious\b|\bthe\s+one\b|"
            r"\bthem\b|(?<![가-힣])그\s|그거|그것|그\s*결과|이거|이전|방금|아까|다시|같은|똑같|이번에는|이번엔|그\s*백테스트"
        ),
        "again": (
            r"\bswitch(?:ing)?\s+to\b|\bchange\s+(?:it\s+)?to\b|\bwhat\s+about\b|\bhow\s+about\b|바꿔|바꾸|바꿔서|"
            r"\bagain\b|\bsame\b|\bre-?run\b|\binstead\b|\bnow\b|\bone\s+more\b|\balso\b|\btoo\b|"
            r"\bthis\s+time\b|다시|같은|똑같|이번에는|이번엔|대신|한\s*번\s*더|도\s*(?:해|돌려|테스트)|에도|로도|"
            r"\bextend\b|\bstretch\b|\bpush\s+(?:it|the\s+end|the\s+start)\b|늘려|늘리|연장|기간만"
        ),
        "unsupported": (
            r"추천|실시간|자동\s*매매|\brecommend|\bwhat\s+should\s+i\s+buy\b|\breal[\s\-]?time\b|"
            r"\b(?:delete|remove|erase|rename|edit|modify)\b.*\b(?:back-?tests?|strateg\w*|runs?)\b|"
            r"(?:백테스트|전략)\S*\s*(?:삭제|지워)|"
            r"^\s*(?:please\s+|can\s+you\s+)?(?:buy|sell|short)\s+(?:me\s+)?\d+\s*(?:shares?|units?)\b|"
            r"\d+\s*주\s*(?:사|팔|매수|매도)|"
            r"\bweather\b|\bjoke\b|\bplace\s+an?\s+order\b|\blive\s+trad|\bforecast\b|\bpredict\b|"
            r"\bnews\b|\bbuy\s+me\b|\bsell\s+my\b|날씨|농담|주문해|예측|뉴스|실거래|사\s*줘|팔아\s*줘"
        ),
        # what a backtesting platform cannot do: real orders, option chains, forecasts, alerts
        "out_of_scope": (
            r"\b(?:real|live)\s+(?:money\s+)?(?:trades?|trading|account|purchase)\b|"
            r"\b(?:real|live|actual)\s+(?:\w+\s+){0,2}orders?\b|\bactually\s+(?:buy|sell|short)\b|"
            r"\b(?:place|send|submit|put\s+in|execute|enter)\s+(?:a|an|the|my)?\s*(?:real\s+|live\s+|market\s+|limit\s+)?"
            r"(?:buy\s+|sell\s+)?orders?\b|\b(?:market|limit|stop)\s+orders?\b|\bat\s+market\b|\bmy\s+broker|\bbrokerage\b|"
            r"\boptions?\s+(?:chain|prices?|quotes?|data|flow|back-?tests?|trading|strateg\w*)\b|\bcovered\s+calls?\b|"
            r"\bstraddles?\b|\bstrangles?\b|\biron\s+condors?\b|\bfutures\b|선물\s*(?:백테|거래|매매|트레이딩|데이터)|"
            r"(?:코인|크립토|옵션)\s*(?:선물|백테|거래|매매)\S*\s*(?:도|는)?\s*(?:돼|됨|되나|되니|가능)|\bcalls?\s+and\s+puts?\b|\bgreeks\b|\bimplied\s+vol|"
            r"\bwill\s+\S+(?:\s+\S+)?\s+(?:go\s+up|go\s+down|rise|fall|drop|climb|crash|rally|gain|moon)\b|"
            r"\b(?:is|are)\s+\S+(?:\s+\S+)?\s+going\s+to\s+(?:go|rise|fall|drop|climb|crash|rally)|\bprice\s+target|"
            r"\bforecast|\bpredict|\balerts?\b|\bnotify\s+me\b|\bping\s+me\b|\blet\s+me\s+know\s+(?:when|if)\b|"
            r"실제(?:로)?\s*[^.?!]{0,15}(?:매수|매도|주문|사\s*줘|팔아)|진짜로?\s*[^.?!]{0,10}(?:매수|매도|주문|사\s*줘|팔아)|"
            r"(?:매수|매도)\s*주문|주문\s*(?:넣|걸|내)|실계좌|실전\s*매매|옵션\s*(?:체인|가격|시세|데이터)|콜\s*옵션|풋\s*옵션|"
            r"오를까|떨어질까|내릴까|오를지|떨어질지|오를\s*것|떨어질\s*것|(?:내일|다음\s*주|다음\s*달|앞으로)[^.?!]*(?:어떻게\s*될|될까)|"
            r"전망|알림|(?:되면|오면|넘으면|떨어지면|도달하면)\s*알려|"
            # advice and orders for me: "should I buy", "buy aapl for me now", "지금 사야 돼?"
            r"\bshould\s+i\s+(?:buy|sell|short)\b|\bgood\s+time\s+to\s+(?:buy|sell)\b|\bwhat\s+will\s+\S+\s+(?:close|trade|be|do)\b|"
            r"\b(?:buy|sell|short)\b(?!\s*(?:and|&|n|-)\s*hold)(?:\s+\S+){0,3}\s+(?:for\s+me|right\s+now)\b|"
            r"사야\s*(?:돼|되나|할까|하나|할지)|팔아야\s*(?:돼|되나|할까|하나|할지)|(?<![가-힣])(?:살까|팔까)|"
            # live trading, notifications, fundamentals and opinions: not in a daily-price backtester
            r"\btrade\b[^.?!]{0,30}\blive\b|\b(?:email|text|sms|slack|telegram)\s+me\b|\bsend\s+me\s+an?\s+(?:email|text|sms)\b|"
            r"텔레그램|문자로|이메일로|메일로|카톡으로|"
            r"\bearnings\b|\bfundamentals?\b|\banalysts?\b|\bp/?e\s+ratio\b|목표\s*주가|실적\s*(?:발표|시즌)|어닝|재무제표|애널리스트"
        ),
        "singular": (
            r"\b(?:my|the)\s+(?:\w+est|most\s+\w+)\s+(?:back-?test|run|one|result)\b(?!s)|"
            r"\b(?:my|the)\s+(?:single\s+)?(?:best|worst|top)\s+(?:back-?test|run|one|result)\b(?!s)|"
            r"\bwhich\s+(?:one\s+)?(?:was|is|did|had|has|performed|run|backtest)\b|\bthe\s+best\s+(?:one|"
            r"backtest|run)\b|\bbest\s+one\b|(?:제일|가장|젤)\s*\S+\s*(?:거|건|것|백테스트|백테)(?!\s*\d)|뭐였|어느\s*거"
        ),
    }.items()
}

# intent -> feature -> weight (features: cues above, recognised slots, context)
_WEIGHTS: dict[str, dict[str, float]] = {
    "run_backtest": {
        "explain": -4,
        "strategy": 3,
        "params": 1,
        "settings": 2,
        "strategy_id_one": 1.5,
        "symbol": 1,
        "period": 0.5,
        "run": 1,
        "backtest_word": 1,
        "again_ctx": 2.5,
        "backtests_plural": -3,
        "list": -0.5,
        "result": -1.5,
        "show": -1,
        "compare": -3,
        "cache": -5,
        "create_strategy": -2,
        "market": -1.5,
        "cancel": -4,
        "status": -2,
        "help": -1,
        "hex_id": -2,
        "backtest_id": -2,
        "unsupported": -3,
        "which_better_subjects": -2,
        "latest_n": -2,
    },
    "get_backtest": {
        "backtest_id": 4,
        "last_one_ctx": 2,
        "hex_id": 3.5,
        "invalid_id": 3,
        "result": 2,
        "show": 1,
        "backtest_word": 0.5,
        "reference_ctx": 1.5,
        "run": -1,
        "again": -1.5,
        "strategy": -4,
        "settings": -3,
        "backtests_plural": -2,
        "cancel": -4,
        "compare": -3,
        "cache": -4,
        "unsupported": -2,
        "status": -0.5,
        "symbol": -0.5,
        "strategy_ids": -2,
        "latest_n": -3,
        "best": -1,
    },
    "cancel_backtest": {
        "cancel": 5,
        "backtest_id": 1,
        "hex_id": 1,
        "invalid_id": 1,
        "reference_ctx": 1,
        "backtest_word": 0.5,
        "strategy": -3,
        "settings": -2,
        "compare": -3,
        "backtests_plural": -1,
        "status": -1,
    },
    "list_backtests": {
        "sorted_metric": 3,
        "backtests_plural": 3,
        "symbol_results": 3,
        "last_one_list": 2.5,
        "status": 2,
        "limit": 1,
        "list": 1,
        "backtest_word": 1,
        "best_list": 2,
        "strategy": -3,
        "backtest_id": -3,
        "hex_id": -3,
        "compare": -2,
        "latest_n": -3,
        "strategies_plural": -3,
        "create": -2,
        "run": -1,
        "settings": -3,
        "cache": -4,
        "strategy_ids": -3,
        "market": -1,
        "which_better_subjects": -3,
    },
    "list_strategies": {
        "strategies_plural": 3,
        "show_strategy": 4,
        "strategy_word": 1,
        "list": 1.5,
        "strategy": -3,
        "create": -3,
        "compare": -3,
        "backtest_word": -2,
        "latest_n": -2,
        "strategy_ids": -2,
        "strategy_id_one": -2,
        "run": -1,
        "symbol": -1,
        "which_better_subjects": -3,
        "focus": -1,
        "metrics": -1.5,  # a list of strategies ranks nothing: "my last 2 strategies by calmar" compares
    },
    "create_strategy": {
        "explain": -4,
        "create": 3,
        "strategy_word": 1,
        "strategy": 1.5,
        "create_name": 1,
        "backtest_word": -2,
        "symbol": -1.5,
        "compare": -3,
        "run": -1,
        "period": -1,
        "settings": -1,
        "latest_n": -2,
    },
    "compare_strategies": {
        "compare": 4,
        "strategy_run": -3,
        "which_better_subjects": 3,
        "strategy_ids": 2,
        "latest_n": 2.5,
        "names": 1,
        "focus": 1,
        "metrics": 0.5,
        "backtests_plural": -1,
        "create": -2,
        "cache": -3,
        "settings": -2,
    },
    "cache_status": {"cache": 6},
    "market_data": {
        "ellipsis_market": 2.5,
        "market": 2.5,
        "bars": 2,
        "symbol": 1.5,
        "period": 0.3,
        "strategy": -4,
        "backtest_word": -3,
        "settings": -3,
        "compare": -2,
        "run": -1,
        "cache": -4,
        "strategy_id_one": -2,
        "result": -1,
    },
    "help": {"help": 3, "unsupported": 4, "explain": 5, "capabilities": 6, "out_of_scope": 8, "base": 0.5},
}


_SORTED = re.compile(
    r"순으로|순서로|\s순(?:\s|$)|(?:높은|낮은|좋은|나쁜|큰|작은|많은|적은)\s*순|정렬|\bsort(?:ed)?\b|\border(?:ed)?\s+by\b|\branked?\s+by\b|\b(?:first|ranked)\b",
    re.I,
)


def _features(reading: Reading, context: dict[str, Any]) -> dict[str, float]:
    low = reading.low
    # "that ticker"/"same ticker" refers to a symbol only, never "run the same again"
    low = SYMBOL_REF.sub(" ", low) if reading.symbol_ref else low
    cues = {name for name, pattern in _CUES.items() if pattern.search(low)}
    f: dict[str, float] = dict.fromkeys(cues, 1.0)
    strategy = reading.strategy
    if strategy is not None and not strategy.from_context:
        f["strategy"] = 1
        if strategy.stated:
            f["params"] = 1
    if reading.settings:
        f["settings"] = 1
    if reading.symbols or reading.symbol_ref:
        f["symbol"] = 1
    if reading.metrics and _SORTED.search(low):
        f["sorted_metric"] = 1  # "MDD 가장 안 좋은 순으로": backtests ranked by a metric
    if reading.period.start or reading.period.end or reading.period.problems:
        f["period"] = 1
    if reading.hex_ids:
        f["hex_id"] = 1
    bare = [n for n in reading.unclaimed if n.integral and n.unit in ("", "번") and 0 < n.value < 10_000_000]
    if reading.backtest_ids or len(reading.generic_ids) == 1:
        f["backtest_id"] = 1
    if reading.invalid_backtest_id:
        f["invalid_id"] = 1
    ids = reading.strategy_ids + (reading.generic_ids if len(reading.generic_ids) >= 2 else [])
    if len(ids) >= 2 or (len(bare) >= 2 and ("compare" in cues or "which_better" in cues)):
        f["strategy_ids"] = 1
    if len(reading.strategy_ids) == 1:
        f["strategy_id_one"] = 1
    if reading.latest_n is not None:
        f["latest_n"] = 1
    if reading.limit is not None:
        f["limit"] = 1
    if reading.bars is not None:
        f["bars"] = 1
    if reading.status is not None:
        f["status"] = 1
    if reading.metrics:
        f["metrics"] = 1
    if reading.focus:
        f["focus"] = 1
    if reading.strategy_names:
        f["names"] = 1
    if reading.create_name:
        f["create_name"] = 1
    remembered = bool(context.get("last_strategy_ids")) and "reference" in cues
    subjects = f.get("strategy_ids") or f.get("latest_n") or f.get("names") or remembered
    if strategy is not None and not strategy.from_context and "run" in cues and not subjects:
        f["strategy_run"] = 1
    if "which_better" in cues and subjects:
        f["which_better_subjects"] = 1
    ranked_focus = (
        bool(reading.focus) and "backtest_word" in cues
    )  # "가장 안정적인 백테스트", "my safest backtest"
    if (
        ("best" in cues or "worst" in cues or ranked_focus)
        and not f.get("strategy_ids")
        and not f.get("latest_n")
        and "strategy_word" not in cues
    ):
        f["best_list"] = 1
    if "create" in cues and ("strategy_word" in cues or strategy is not None):
        f["create_strategy"] = 1
    has_last_run = bool(
        context.get("last_run") or context.get("last_strategy_config") or context.get("last_strategy_id")
    )
    last_intent = context.get("last_intent")
    elliptic = "ellipsis" in cues and last_intent in (None, "run_backtest")
    if "ellipsis" in cues and last_intent == "market_data":
        f["ellipsis_market"] = 1
    follows = "again" in cues or reading.period.refers_back or elliptic
    if has_last_run and (follows or (strategy is not None and strategy.from_context and strategy.config)):
        f["again_ctx"] = 1
    has_backtest = context.get("last_backtest_id") is not None or bool(context.get("last_list_ids"))
    ids_named = reading.backtest_ids or reading.hex_ids or reading.generic_ids or reading.invalid_backtest_id
    if reading.symbols and "result" in cues and "backtest_word" in cues and not ids_named:
        f["symbol_results"] = 1  # "AAPL backtest results": that symbol's backtests
    if (
        "show" in cues
        and "strategy_word" in cues
        and not {"run", "create", "compare"} & cues
        and not strategy
    ):
        f["show_strategy"] = 1  # "show strategy 5": the saved strategies (there is no single-strategy tool)
    if "last_one" in cues:
        f["last_one_ctx" if has_backtest else "last_one_list"] = 1
    if has_backtest and ("reference" in cues or "result" in cues):
        f["reference_ctx"] = 1
    f["base"] = 1
    return f


def _run_evidence(features: dict[str, float]) -> bool:
    """A run needs something to run: a strategy, a symbol, settings, a saved strategy or a follow-up;
    "해줘" alone ("주식 추천해줘") is no backtest."""
    keys = ("strategy", "symbol", "settings", "strategy_id_one", "backtest_word", "again_ctx", "params")
    return any(features.get(key) for key in keys)


def _score(features: dict[str, float]) -> list[tuple[str, float]]:
    scores = [
        (intent, sum(weight * features.get(name, 0.0) for name, weight in _WEIGHTS[intent].items()))
        for intent in INTENTS
    ]
    return sorted(scores, key=lambda item: -item[1])


# ---- messages ----------------------------------------------------------------------------------------------
_QUESTIONS: dict[str, tuple[str, str]] = {
    "symbol": ("Which symbol (e.g. AAPL)?", "어떤 종목으로 할까요? (예: AAPL)"),
    "strategy_config": (
        "Which strategy (e.g. 'sma 10/50', 'RSI 14 30/70', 'macd', 'buy and hold')?",
        "어떤 전략으로 할까요? (예: 'sma 10/50', 'RSI 14 30/70', 'macd', '바이앤홀드')",
    ),
    "config": ("Which strategy config (e.g. 'sma 10/50')?", "어떤 전략 설정으로 만들까요? (예: 'sma 10/50')"),
    "backtest_id": (
        "Which backtest? Give its id (see 'list my backtests').",
        "어떤 백테스트인가요? id를 알려주세요.",
    ),
    "strategy_ids": (
        "Which strategies? Give 2-5 strategy ids or say 'my last 3 strategies'.",
        "어떤 전략들을 비교할까요? 전략 id 2~5개나 '최근 전략 3개'처럼 말해 주세요.",
    ),
    "intent": (
        "Did you want to run a backtest, see one, or compare strategies?",
        "백테스트를 실행할까요, 결과를 볼까요, 아니면 전략을 비교할까요?",
    ),
    "start": ("Which start date (e.g. 2018-01-01)?", "시작일을 알려주세요 (예: 2018-01-01)."),
    "end": ("Which end date (e.g. 2022-12-31)?", "종료일을 알려주세요 (예: 2022-12-31)."),
    "name": ("What should the strategy be called?", "전략 이름을 뭐라고 할까요?"),
}


_UNIT_HINTS = {
    "percent": (" (a percent, e.g. 5%)", " (퍼센트, 예: 5%)"),
    "fraction": (" (a percent, e.g. 0.1%)", " (퍼센트, 예: 0.1%)"),
    "bps": (" (basis points, e.g. 5bps)", " (bp, 예: 5bps)"),
    "cash": (" (an amount, e.g. 10000)", " (금액, 예: 10000)"),
}


def _problem(issue: Issue) -> PlanProblem:
    value = issue.value
    base_en, base_ko = _QUESTIONS.get(
        issue.field.split(".")[0] if issue.field in ("symbol",) else issue.field, ("", "")
    )
    label = issue.field.split(".")[-1]
    unit_en, unit_ko = _UNIT_HINTS.get(
        lx.SETTINGS[label].chat.unit if issue.field.startswith("settings.") and label in lx.SETTINGS else "",
        ("", ""),
    )
    if issue.kind == "missing":
        en = base_en or f"What value for {label}{unit_en}?"
        ko = base_ko or f"{label} 값을 알려주세요{unit_ko}."
    elif issue.field == "symbol" and issue.kind == "ambiguous" and value:
        options = " or ".join(value.split(", "))
        en = f"Which symbol: {options}? A backtest runs on one symbol."
        ko = f"어느 종목으로 할까요: {value.replace(', ', ' 또는 ')}? 백테스트는 종목 하나로 실행해요."
    elif issue.kind == "invalid":
        rule_en = f" — {issue.rule_en}" if issue.rule_en else ""
        rule_ko = f" — {issue.rule_ko}" if issue.rule_ko else ""
        en = f"'{value}' is not a valid {label}{rule_en}. What should it be?"
        ko = f"'{value}'은(는) {label} 값으로 쓸 수 없어요{rule_ko}. 어떤 값으로 할까요?"
    elif issue.kind == "ambiguous":
        rule_en = f" ({issue.rule_en})" if issue.rule_en else ""
        rule_ko = f" ({issue.rule_ko})" if issue.rule_ko else ""
        if value is None:  # nothing typed to quote: several candidates ("show that result" after a list)
            en = f"Which {label} do you mean{rule_en}?"
            ko = f"어떤 {label}을(를) 말씀하시는 건가요{rule_ko}?"
        else:
            en = f"I'm not sure what '{value}' means for {label}{rule_en}. Could you say it again?"
            ko = f"'{value}'이(가) {label}에 어떤 값인지 확실하지 않아요{rule_ko}. 다시 알려주시겠어요?"
    else:
        known = f" ({issue.rule_en})" if issue.rule_en else ""
        known_ko = f" ({issue.rule_ko})" if issue.rule_ko else ""
        en = f"I didn't understand what '{value}' is for — which parameter or setting is it{known}?"
        ko = f"'{value}'이(가) 무엇을 뜻하는지 모르겠어요. 어떤 파라미터나 설정인가요{known_ko}?"
    return PlanProblem(issue.field, issue.kind, value, en, ko)


# ---- planning --------------------------------------------------------------------------------------------
def _context_strategy_type(context: dict[str, Any]) -> str | None:
    """The strategy type labels refer to without a name: a pending request's ("fast 20 slow 50" answering
    "which fast and slow?"), else the last run's ("now with slow 100")."""
    pending = context.get("pending") if isinstance(context.get("pending"), dict) else {}
    pending_args = pending.get("args") or {}
    config = pending_args.get("strategy_config") or pending_args.get("config")
    if isinstance(config, dict) and config.get("config_type") in lx.STRATEGIES:
        return str(config["config_type"])
    config = (context.get("last_run") or {}).get("strategy_config") or context.get("last_strategy_config")
    if isinstance(config, dict) and config.get("config_type") in lx.STRATEGIES:
        return str(config["config_type"])
    return None


@dataclass
class _Draft:
    intent: str
    args: dict[str, Any] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    stated: dict[str, str] = field(default_factory=dict)
    used: list[str] = field(default_factory=list)


def plan(
    text: str,
    context: dict[str, Any] | None = None,
    today: date | None = None,
    *,
    known_symbols: Any = None,
) -> Plan:
    """Map one utterance to a tool call; ``context`` carries ``last_*`` slots and ``pending`` from
    earlier turns. Pure: no I/O."""
    context = dict(context or {})
    today = today or date.today()
    known = {str(s).upper() for s in known_symbols} if known_symbols is not None else None
    language = detect_language(text)
    reading = read(text, today, known_symbols=known, context_type=_context_strategy_type(context))
    features = _features(reading, context)
    scores = _score(features)
    pending = _pending(context)
    if pending is not None:
        merged = _answer_pending(pending, reading, features, scores, context, today, language)
        if merged is not None:
            return merged
    best, best_score = scores[0]
    if best_score <= 0.5 or (best == "run_backtest" and not _run_evidence(features)):
        best = "help"
    draft = _BUILDERS[best](reading, context, features)
    plan_ = _finish(draft, reading, language)
    plan_.score = best_score
    plan_.alternatives = [(intent, score) for intent, score in scores[1:4]]
    runner_up, runner_score = scores[1]
    if (
        best != "help"
        and best_score > 0.5
        and abs(best_score - runner_score) < 1e-9
        and {best, runner_up} != {"help"}
    ):
        plan_.missing.insert(0, "intent")
        en, ko = _QUESTIONS["intent"]
        plan_.problems.insert(0, PlanProblem("intent", "ambiguous", None, en, ko))
    return plan_


def _finish(draft: _Draft, reading: Reading, language: Language) -> Plan:
    args = {k: v for k, v in draft.args.items() if v is not None}
    issues = list(draft.issues)
    missing: list[str] = []
    problems: list[PlanProblem] = []
    for issue in issues:
        if issue.field not in missing:
            missing.append(issue.field)
            problems.append(_problem(issue))
    return Plan(
        draft.intent,
        args,
        language,
        missing,
        draft.used,
        problems,
        draft.stated,
        bool(reading.period.relative) and bool(draft.stated.get("start") or draft.stated.get("end")),
    )


def _period_into(draft: _Draft, reading: Reading, context: dict[str, Any], *, follow_up: bool) -> None:
    period = reading.period
    rule = (
        ("the end must come after the start", "종료일은 시작일보다 뒤여야 해요")
        if period.reversed
        else ("a date between 1900 and today", "1900년부터 오늘 사이의 날짜")
    )
    for name, kind, value in period.problems:
        draft.issues.append(Issue("start" if name == "date" else name, kind, value, *rule))
    last_run = context.get("last_run") or {}
    extend = re.search(r"\bextend|\bstretch|늘려|늘리|연장|기간만", reading.low)
    if follow_up and extend and (period.start is None) != (period.end is None) and not period.problems:
        # "기간만 2024년까지로 늘려서", "extend it back to 2015": the other end stays where it was
        source = last_run or {"start": context.get("last_start"), "end": context.get("last_end")}
        key = "start" if period.start is None else "end"
        kept = source.get(key)
        stated = (period.end if key == "start" else period.start).isoformat()
        if kept and (kept < stated if key == "start" else kept > stated):
            draft.args[key] = kept
            draft.used.append(key)
    if period.start is not None or period.end is not None:
        if period.start is not None:
            draft.args["start"] = period.start.isoformat()
            draft.stated["start"] = period.stated.get("start", "")
        if period.end is not None:
            draft.args["end"] = period.end.isoformat()
            draft.stated["end"] = period.stated.get("end", "")
        return
    if period.problems:
        return
    if period.refers_back or follow_up:
        source = (
            last_run if last_run else {"start": context.get("last_start"), "end": context.get("last_end")}
        )
        for key in ("start", "end"):
            if source.get(key):
                draft.args[key] = source[key]
                draft.used.append(key)


def _unclaimed_into(draft: _Draft, reading: Reading, where: str) -> None:
    config = draft.args.get(where) if where in ("strategy_config", "config") else None
    words = lx.STRATEGIES.get(config.get("config_type", "")) if isinstance(config, dict) else None
    rule_en = rule_ko = ""
    if words is not None and words.fields:
        rule_en = f"{words.chat.label} takes " + ", ".join(words.fields)
        rule_ko = f"{words.chat.label} 파라미터: " + ", ".join(words.fields)
    for num in reading.unclaimed:
        draft.issues.append(Issue(where, "unclaimed", num.text, rule_en, rule_ko))


def _symbol_into(
    draft: _Draft, reading: Reading, context: dict[str, Any], *, required: bool, from_ctx: bool
) -> None:
    for issue in reading.issues:
        if issue.field == "symbol":
            draft.issues.append(issue)
    distinct = list(dict.fromkeys(hit.symbol for hit in reading.symbols))
    if distinct:
        draft.args["symbol"] = distinct[0]
        draft.stated["symbol"] = reading.symbols[0].typed
        if len(distinct) > 1:
            draft.issues.append(
                Issue(
                    "symbol",
                    "ambiguous",
                    ", ".join(distinct),
                    "one symbol per backtest",
                    "백테스트 하나에 종목 하나",
                )
            )
        return
    if any(issue.field == "symbol" for issue in draft.issues):
        return
    if from_ctx:
        last = (context.get("last_run") or {}).get("symbol") or context.get("last_symbol")
        if last:
            draft.args["symbol"] = last
            draft.used.append("symbol")
            return
    if required:
        draft.issues.append(Issue("symbol", "missing"))


def _strategy_issues(reading: Reading, prefix: str) -> list[Issue]:
    out = []
    for issue in reading.issues:
        if issue.field.startswith("strategy_config"):
            out.append(
                Issue(
                    prefix + issue.field[len("strategy_config") :],
                    issue.kind,
                    issue.value,
                    issue.rule_en,
                    issue.rule_ko,
                )
            )
    return out


def _build_run(reading: Reading, context: dict[str, Any], features: dict[str, float]) -> _Draft:
    draft = _Draft("run_backtest")
    last_run = context.get("last_run") or {}
    follow_up = bool(features.get("again_ctx"))
    strategy = reading.strategy
    if strategy is not None and not strategy.from_context:
        draft.args["strategy_config"] = {"config_type": strategy.config_type, **strategy.config}
        draft.stated["strategy_config"] = reading.text[strategy.span[0] : strategy.span[1]]
        draft.stated.update({f"strategy_config.{k}": v for k, v in strategy.stated.items()})
        if len(reading.strategy_types) > 1:
            draft.issues.append(
                Issue(
                    "strategy_config",
                    "ambiguous",
                    " / ".join(reading.strategy_types),
                    "one strategy per backtest",
                    "백테스트 하나에 전략 하나",
                )
            )
    elif len(reading.strategy_ids) == 1:
        draft.args["strategy_id"] = reading.strategy_ids[0]
        draft.stated["strategy_id"] = reading.strategy_ids[0]
    else:
        config = last_run.get("strategy_config") or context.get("last_strategy_config")
        strategy_id = last_run.get("strategy_id") if last_run else context.get("last_strategy_id")
        if config:
            config = dict(config)
            if strategy is not None and strategy.from_context and strategy.config:
                config.update(strategy.config)  # "now with slow 100"
                draft.stated.update({f"strategy_config.{k}": v for k, v in strategy.stated.items()})
                _validate_context_config(draft, config)
            draft.args["strategy_config"] = config
            draft.used.append("strategy_config")
            follow_up = True
        elif strategy_id is not None:
            draft.args["strategy_id"] = str(strategy_id)
            draft.used.append("strategy_id")
            follow_up = True
        else:
            draft.issues.append(Issue("strategy_config", "missing"))
    draft.issues.extend(_strategy_issues(reading, "strategy_config"))
    _symbol_into(draft, reading, context, required=True, from_ctx=True)
    # the same test again with other costs/exits keeps its period ("do that again with a 5% stop",
    # "수수료 0.05%로 바꿔서 다시"); a new strategy or symbol keeps it only from the full last run
    same_test = not reading.symbols and (
        strategy is None
        or (strategy.from_context and not strategy.config)
        or re.search(r"\bdo\s+(?:that|it)\s+again\b|\bsame\s+thing\b|똑같이", reading.low)
    )
    _period_into(draft, reading, context, follow_up=follow_up and (bool(last_run) or bool(same_test)))
    settings: dict[str, Any] = {}
    if follow_up:
        base = last_run.get("settings") if last_run else context.get("last_settings")
        if base:
            settings.update(base)
            draft.used.append("settings")
    settings.update(reading.settings)
    for issue in reading.issues:
        if issue.field.startswith("settings."):
            draft.issues.append(issue)
    for target in reading.unpaired_labels:
        kind, _, name = target.partition(":")
        if kind == "setting" and name not in settings:
            draft.issues.append(Issue(f"settings.{name}", "missing"))
        elif kind == "strategy" and "strategy_config" in draft.args:
            first = name.split("|")[0]
            if first not in draft.args["strategy_config"]:
                draft.issues.append(Issue(f"strategy_config.{first}", "missing"))
    if settings:
        draft.args["settings"] = settings
        draft.stated.update({f"settings.{k}": v for k, v in reading.settings_stated.items()})
        _validate_settings(draft, settings)
    for match in _UNSUPPORTED_SETTINGS.finditer(reading.low):
        draft.issues.append(
            Issue(
                "settings",
                "invalid",
                match.group(0),
                "not a backtest setting here; the settings are commission, slippage, cash, sizing, "
                "long/short, fill, stop loss, take profit and the risk-free rate",
                "지원하지 않는 설정이에요. 가능한 설정: 수수료, 슬리피지, 초기 자금, "
                "포지션 크기, 롱/숏, 체결, 손절, 익절, 무위험 이자율",
            )
        )
    _unclaimed_into(draft, reading, "strategy_config" if "strategy_config" in draft.args else "settings")
    return draft


# Things people ask a backtest to do that it cannot: silently running without them would run something
# other than what was asked, so the plan asks instead.
_UNSUPPORTED_SETTINGS = re.compile(
    r"\btrailing(?:\s+stop)?\b|\bleverage[d]?\b|\bon\s+margin\b|\brebalanc\w*|\bdividends?\b|\bpyramid\w*|"
    r"\bintraday\b|\bhourly\b|\bminute\s+bars\b|\d+\s*x\s+leverage|레버리지|트레일링|리밸런싱|배당|분봉|시간봉|신용\s*매수",
    re.I,
)


def _validate_context_config(draft: _Draft, config: dict[str, Any], head: str = "strategy_config") -> None:
    from pydantic import ValidationError

    words = lx.STRATEGIES.get(config.get("config_type", ""))
    if words is None:
        return
    try:
        words.model.model_validate(config)
    except ValidationError as exc:
        for name, message in conflicts(words, exc):
            typed = draft.stated.get(f"{head}.{name}", str(config.get(name)))
            config.pop(name, None)
            draft.issues.append(Issue(f"{head}.{name}", "invalid", typed, message))


def _validate_settings(draft: _Draft, settings: dict[str, Any]) -> None:
    from pydantic import ValidationError

    from quantops.backtest import BacktestSettings

    try:
        BacktestSettings.model_validate(settings)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            name = str(error["loc"][0]) if error["loc"] else "size"
            typed = draft.stated.get(f"settings.{name}", str(settings.get(name)))
            draft.issues.append(Issue(f"settings.{name}", "invalid", typed, error["msg"], error["msg"]))
            settings.pop(name, None)


def _backtest_id(draft: _Draft, reading: Reading, context: dict[str, Any]) -> None:
    ids = (
        reading.hex_ids
        or reading.backtest_ids
        or (reading.generic_ids if len(reading.generic_ids) == 1 else [])
    )
    if not ids:
        bare = [n for n in reading.unclaimed if n.integral and n.unit == ""]
        if len(bare) == 1:
            ids = [str(int(bare[0].value))]
            reading.unclaimed.remove(bare[0])
    if ids:
        draft.args["backtest_id"] = ids[0].lower()
        draft.stated["backtest_id"] = ids[0]
        return
    if reading.invalid_backtest_id:
        draft.issues.append(
            Issue(
                "backtest_id",
                "invalid",
                reading.invalid_backtest_id,
                "an id like 3f2a9c0d… or a number",
                "3f2a9c0d… 같은 id나 번호",
            )
        )
        return
    listed = context.get("last_list_ids") or []
    if context.get("last_intent") == "list_backtests" and listed:
        if len(listed) == 1:
            draft.args["backtest_id"] = str(listed[0])
            draft.used.append("backtest_id")
        else:
            draft.issues.append(
                Issue("backtest_id", "ambiguous", None, "which one of the list", "목록 중 어느 것")
            )
        return
    if context.get("last_backtest_id") is not None:
        draft.args["backtest_id"] = str(context["last_backtest_id"])
        draft.used.append("backtest_id")
        return
    draft.issues.append(Issue("backtest_id", "missing"))


def _build_get(reading: Reading, context: dict[str, Any], features: dict[str, float]) -> _Draft:
    draft = _Draft("get_backtest")
    _backtest_id(draft, reading, context)
    return draft


def _build_cancel(reading: Reading, context: dict[str, Any], features: dict[str, float]) -> _Draft:
    draft = _Draft("cancel_backtest")
    _backtest_id(draft, reading, context)
    return draft


def _sort(reading: Reading, features: dict[str, float]) -> tuple[str | None, str | None]:
    metric = reading.metrics[0] if reading.metrics else (reading.focus[0] if reading.focus else None)
    ranked = (
        "best" in features
        or "worst" in features
        or (reading.focus and "backtest_word" in features)
        or re.search(
            r"\bsort(?:ed)?\b.*\bby\b|\border(?:ed)?\s+by\b|\brank(?:ed)?\b.*\bby\b|순으로|기준으로\s*정렬|정렬|"
            r"(?:높은|낮은|좋은|나쁜|큰|작은|많은|적은)\s*순",
            reading.low,
        )
    )
    if not ranked and metric is None:
        return None, None
    if not ranked:
        return None, None
    metric = metric or "total_return"
    low = reading.low
    if re.search(
        r"\bworst\b|\bbottom\b|최악|꼴찌|워스트|하위|(?:제일|가장|젤)\s*(?:나쁜|못|안\s*좋|구린|구려|별로)|"
        r"안\s*좋은\s*순|나쁜\s*순|못한\s*순",
        low,
    ):
        return metric, "worst"
    if re.search(
        r"\bbest\b|\btop\b|최고|1등|베스트|상위|(?:제일|가장|젤)\s*(?:좋|잘)|"
        r"(?<!안)(?<!안 )좋은\s*순|잘한\s*순",
        low,
    ):
        return metric, "best"
    high = re.search(
        r"\bhighest\b|\bbiggest\b|\bmost\b(?!\s+recent)|\bgreatest\b|(?:제일|가장)\s*(?:높|많|크)|"
        r"(?:높은|큰|많은)\s*(?:순|것부터|거부터)",
        low,
    )
    lowest = re.search(
        r"\blowest\b|\bsmallest\b|\bleast\b|(?:제일|가장)\s*(?:낮|적|작)|(?:낮은|작은|적은)\s*(?:순|것부터|거부터)",
        low,
    )
    better_high = lx.HIGHER_IS_BETTER.get(metric, True)
    if high:
        return metric, "best" if better_high else "worst"
    if lowest:
        return metric, "worst" if better_high else "best"
    return metric, "best"


def _build_list(reading: Reading, context: dict[str, Any], features: dict[str, float]) -> _Draft:
    draft = _Draft("list_backtests")
    draft.args["status"] = reading.status
    draft.args["limit"] = reading.limit
    if reading.symbols:
        draft.args["symbol"] = reading.symbols[0].symbol
        draft.stated["symbol"] = reading.symbols[0].typed
    elif reading.symbol_ref:
        _symbol_into(draft, reading, context, required=True, from_ctx=True)
    sort_by, order = _sort(reading, features)
    if sort_by:
        draft.args["sort_by"] = sort_by
        draft.args["order"] = order
        if reading.limit is None and features.get("singular"):
            draft.args["limit"] = 1
    if features.get("last_one_list") and reading.limit is None:
        draft.args["limit"] = 1  # "show my last backtest": the newest one
    if reading.limit is not None and not 1 <= reading.limit <= 100:
        draft.issues.append(Issue("limit", "invalid", str(reading.limit), "1 to 100", "1~100"))
    return draft


def _build_list_strategies(reading: Reading, context: dict[str, Any], features: dict[str, float]) -> _Draft:
    return _Draft("list_strategies")


def _build_create(reading: Reading, context: dict[str, Any], features: dict[str, float]) -> _Draft:
    draft = _Draft("create_strategy")
    strategy = reading.strategy
    config = None
    if strategy is not None and not strategy.from_context:
        config = {"config_type": strategy.config_type, **strategy.config}
        draft.stated.update({f"config.{k}": v for k, v in strategy.stated.items()})
        draft.issues.extend(_strategy_issues(reading, "config"))
    elif features.get("reference") and context.get("last_strategy_config"):
        config = dict(context["last_strategy_config"])
        draft.used.append("config")
    name = reading.create_name
    if name:
        draft.stated["name"] = name
        draft.args["name"] = name
    if reading.create_description:
        draft.args["description"] = reading.create_description
        draft.stated["description"] = reading.create_description
    draft.args["config"] = config
    if config is None:
        draft.issues.append(Issue("config", "missing"))
    if not name:  # a saved strategy is found by its name later: the user names it, never the planner
        draft.issues.append(Issue("name", "missing"))
    _unclaimed_into(draft, reading, "config")
    return draft


def _build_compare(reading: Reading, context: dict[str, Any], features: dict[str, float]) -> _Draft:
    draft = _Draft("compare_strategies")
    ids = list(reading.strategy_ids)
    if len(ids) < 2 and len(reading.generic_ids) >= 2:
        ids = list(dict.fromkeys([*ids, *reading.generic_ids]))
    configs_named = reading.strategy is not None and not reading.strategy.from_context
    if len(ids) < 2 and not configs_named:  # "compare sma 10/50 with rsi 14 30/70": names, not ids 14, 30
        bare = [n for n in reading.unclaimed if n.integral and n.unit in ("", "번") and n.value > 0]
        if len(bare) >= 2 or (ids and bare):
            ids = list(dict.fromkeys([*ids, *(str(int(n.value)) for n in bare)]))
            for n in bare:
                reading.unclaimed.remove(n)
    ids += [h for h in reading.hex_ids if h not in ids]
    if reading.latest_n is None and len(ids) < 2 and reading.limit is not None and not reading.strategy_names:
        reading.latest_n = reading.limit  # "전략 비교해줘 최근 1개": how many of the latest strategies
    if reading.latest_n is not None:
        draft.args["latest_n"] = reading.latest_n
        draft.stated["latest_n"] = str(reading.latest_n)
        if not 2 <= reading.latest_n <= 5:
            draft.issues.append(Issue("latest_n", "invalid", str(reading.latest_n), "2 to 5", "2~5개"))
    elif len(ids) >= 2:
        draft.args["strategy_ids"] = ids[:5]
        draft.stated["strategy_ids"] = ", ".join(ids)
        if len(ids) > 5:
            draft.issues.append(
                Issue("strategy_ids", "invalid", ", ".join(ids), "2 to 5 strategies", "전략 2~5개")
            )
    elif reading.strategy_names:
        draft.args["strategy_names"] = reading.strategy_names
        draft.stated["strategy_names"] = ", ".join(reading.strategy_names)
    elif features.get("reference") and context.get("last_strategy_ids"):
        draft.args["strategy_ids"] = list(context["last_strategy_ids"])
        draft.used.append("strategy_ids")
    else:
        draft.args["strategy_ids"] = ids
        draft.issues.append(Issue("strategy_ids", "missing"))
    metrics = list(reading.focus) + [m for m in reading.metrics if m not in reading.focus]
    if metrics:
        draft.args["metrics"] = metrics
    draft.args["natural_language_query"] = reading.text
    period = reading.period
    if reading.symbols:
        draft.args["symbol"] = reading.symbols[0].symbol
        draft.stated["symbol"] = reading.symbols[0].typed
    elif context.get("last_symbol"):
        key = "symbol" if (period.start or period.end or reading.symbol_ref) else "fallback_symbol"
        draft.args[key] = context["last_symbol"]
        draft.used.append(key)
    _period_into(draft, reading, {}, follow_up=False)
    return draft


def _build_cache(reading: Reading, context: dict[str, Any], features: dict[str, float]) -> _Draft:
    return _Draft("cache_status")


def _build_market(reading: Reading, context: dict[str, Any], features: dict[str, float]) -> _Draft:
    draft = _Draft("market_data")
    from_ctx = bool(features.get("reference")) or reading.symbol_ref
    _symbol_into(draft, reading, context, required=True, from_ctx=from_ctx)
    period = reading.period
    if period.relative_days is not None and period.relative and period.relative_days <= 100:
        draft.args["last"] = period.relative_days
        draft.stated["last"] = period.stated.get("start", "")
    elif reading.bars is not None:
        draft.args["last"] = reading.bars
        draft.stated["last"] = str(reading.bars)
        for num in list(reading.unclaimed):
            if num.value == reading.bars:
                reading.unclaimed.remove(num)
    else:
        _period_into(draft, reading, context, follow_up=False)
    if reading.limit is not None and "last" not in draft.args:
        draft.args["last"] = reading.limit
    last = draft.args.get("last")
    if last is not None and not 1 <= last <= 100:
        draft.issues.append(Issue("last", "invalid", str(last), "1 to 100 bars", "1~100개"))
        draft.args.pop("last")
    return draft


def _build_help(reading: Reading, context: dict[str, Any], features: dict[str, float]) -> _Draft:
    return _Draft("help")


_BUILDERS = {
    "run_backtest": _build_run,
    "get_backtest": _build_get,
    "cancel_backtest": _build_cancel,
    "list_backtests": _build_list,
    "list_strategies": _build_list_strategies,
    "create_strategy": _build_create,
    "compare_strategies": _build_compare,
    "cache_status": _build_cache,
    "market_data": _build_market,
    "help": _build_help,
}


# ---- pending requests ------------------------------------------------------------------------------------
def _pending(context: dict[str, Any]) -> dict[str, Any] | None:
    pending = context.get("pending")
    if isinstance(pending, dict) and pending.get("intent") in _BUILDERS:
        return pending
    legacy = context.get("pending_compare")
    if isinstance(legacy, dict):
        return {
            "intent": "compare_strategies",
            "args": dict(legacy),
            "missing": ["symbol"],
            "stated": {},
            "key": "pending_compare",
        }
    return None


_STRONG_CUES = (
    "run",
    "backtest_word",
    "show",
    "result",
    "list",
    "create",
    "compare",
    "cache",
    "market",
    "cancel",
    "help",
    "which_better",
)


def _answer_pending(
    pending: dict[str, Any],
    reading: Reading,
    features: dict[str, float],
    scores: list[tuple[str, float]],
    context: dict[str, Any],
    today: date,
    language: Language,
) -> Plan | None:
    """The reply to the pending question ("AAPL" to "which symbol?") completes the pending request;
    a new request of its own replaces it (None)."""
    intent = pending["intent"]
    args = dict(pending.get("args") or {})
    missing = list(pending.get("missing") or [])
    fresh_intent = scores[0][0]
    strong = [cue for cue in _STRONG_CUES if features.get(cue)]
    # a new request: its own intent cues (other than "do it"/"해줘") and something to act on
    own_cues = [c for c in strong if c not in ("run",)]
    if (
        fresh_intent != intent
        and own_cues
        and not (fresh_intent == "market_data" and "market" not in own_cues)
    ):
        return None
    if intent != "run_backtest" and features.get("strategy") and "run" in strong:
        return None
    # the same kind of request restated with its own strategy ("backtest sma 10/50 on ZZZQ 2018-2020"
    # while a run waits for a period) is a new request, never a period for the old one
    restated = reading.strategy is not None and not reading.strategy.from_context
    if restated and not any(slot.partition(".")[0] in ("strategy_config", "config") for slot in missing):
        return None
    filled: dict[str, Any] = {}
    stated: dict[str, str] = dict(pending.get("stated") or {})
    used = [str(pending.get("key", "pending"))]
    # "20/50" answering "fast and slow?": bare numbers fill the asked parameters in the order asked
    asked = [
        slot
        for slot in missing
        if slot.partition(".")[0] in ("strategy_config", "config")
        and slot.partition(".")[2]
        and not (reading.strategy and slot.partition(".")[2] in reading.strategy.config)
    ]
    bare = [n for n in reading.unclaimed if n.unit in ("", "day", "bar", "%", "x") and not n.currency]
    positional = dict(zip(asked, bare, strict=True)) if asked and len(bare) == len(asked) else {}
    for slot in missing:
        head, _, sub = slot.partition(".")
        if slot == "symbol" and reading.symbols:
            filled["symbol"] = reading.symbols[0].symbol
            stated["symbol"] = reading.symbols[0].typed
        elif (
            head in ("strategy_config", "config")
            and not sub
            and reading.strategy
            and not reading.strategy.from_context
        ):
            filled[head] = {"config_type": reading.strategy.config_type, **reading.strategy.config}
        elif head in ("strategy_config", "config") and sub:
            config = dict(filled.get(head) or args.get(head) or {})
            value = reading.strategy.config.get(sub) if reading.strategy else None
            words = lx.STRATEGIES.get(config.get("config_type", ""))
            if value is not None:
                stated[slot] = reading.strategy.stated.get(sub, "") if reading.strategy else ""
            elif slot in positional and words is not None and sub in words.fields:
                num = positional[slot]
                reading.unclaimed.remove(num)
                value = _param_value(words, sub, num, reading)
                stated[slot] = num.text
            if value is not None:
                config[sub] = value
                filled[head] = config
        elif head == "settings" and sub:
            value = reading.settings.get(sub)
            if value is None and len(reading.unclaimed) == 1:
                from quantops.chat.planner.reading import _setting_value

                num = reading.unclaimed.pop()
                value = _setting_value(sub, num, reading)
                stated[slot] = num.text
            if value is not None:
                filled.setdefault("settings", dict(args.get("settings") or {}))[sub] = value
        elif slot in ("start", "end") and (reading.period.start or reading.period.end):
            if reading.period.start:
                filled["start"] = reading.period.start.isoformat()
            if reading.period.end:
                filled["end"] = reading.period.end.isoformat()
        elif slot == "backtest_id":
            ids = reading.hex_ids or reading.backtest_ids or reading.generic_ids
            bare = [n for n in reading.unclaimed if n.integral and n.unit in ("", "번")]
            if ids or len(bare) == 1:
                filled["backtest_id"] = (ids[0] if ids else str(int(bare[0].value))).lower()
                if not ids:
                    reading.unclaimed.remove(bare[0])
        elif slot == "strategy_ids":
            bare = [n for n in reading.unclaimed if n.integral]
            ids = reading.strategy_ids or reading.generic_ids or [str(int(n.value)) for n in bare]
            if len(ids) >= 2:
                filled["strategy_ids"] = ids[:5]
                if not (reading.strategy_ids or reading.generic_ids):
                    reading.unclaimed = [n for n in reading.unclaimed if n not in bare]
            elif reading.latest_n:
                filled["latest_n"] = reading.latest_n
        elif slot == "strategy_names":  # the strategy meant instead of a name that matched none
            if len(reading.strategy_names) >= 2:
                filled["strategy_names"] = reading.strategy_names
            elif reading.text.strip(" .!?\"'") and not own_cues:
                kept = [n for n in args.get("strategy_names") or [] if isinstance(n, str)]
                filled["strategy_names"] = [*kept, reading.text.strip(" .!?\"'")][:5]
                stated["strategy_names"] = ", ".join(filled["strategy_names"])
        elif slot == "name" and reading.text and not own_cues:
            filled["name"] = reading.create_name or reading.text.strip(" .!?\"'")
    if not filled:
        if asked and reading.unclaimed and not own_cues and not reading.strategy_types:
            # "25" answering "fast and slow?": still one number for two — ask again, keep the request
            problems = [_problem(Issue(slot, "missing")) for slot in missing]
            problems += [_problem(Issue(asked[0], "ambiguous", n.text)) for n in reading.unclaimed]
            return Plan(intent, dict(args), language, list(missing), used, problems, stated)
        return None
    args.update(filled)
    if intent == "compare_strategies" and "symbol" in filled:
        args.pop("fallback_symbol", None)
    if intent == "create_strategy" and not args.get("name") and "name" not in missing:
        missing.append("name")  # still to be named by the user
    # this reply may also state a period or settings ("AAPL from 2020", "NVDA, 0.1% commission")
    if reading.period.start or reading.period.end:
        for key in ("start", "end"):
            args.pop(key, None)
        if reading.period.start:
            args["start"] = reading.period.start.isoformat()
            stated["start"] = reading.period.stated.get("start", "")
        if reading.period.end:
            args["end"] = reading.period.end.isoformat()
            stated["end"] = reading.period.stated.get("end", "")
    if reading.settings and intent == "run_backtest":
        args["settings"] = {**(args.get("settings") or {}), **reading.settings}
        stated.update({f"settings.{k}": v for k, v in reading.settings_stated.items()})
    remaining = [slot for slot in missing if not _slot_filled(slot, args, filled)]
    problems = [_problem(Issue(slot, "missing")) for slot in remaining]
    for head in ("strategy_config", "config"):
        if head in filled and isinstance(args.get(head), dict):
            check = _Draft(intent, stated=stated)
            _validate_context_config(check, args[head], head)  # "30/20" is still no fast/slow pair
            for issue in check.issues:
                if issue.field not in remaining:
                    remaining.append(issue.field)
                    problems.append(_problem(issue))
    for num in reading.unclaimed:
        remaining.append("strategy_config" if intent == "run_backtest" else "args")
        problems.append(_problem(Issue(remaining[-1], "unclaimed", num.text)))
    plan_ = Plan(
        intent, {k: v for k, v in args.items() if v is not None}, language, remaining, used, problems, stated
    )
    plan_.period_relative = reading.period.relative and bool(reading.period.start)
    return plan_


def _slot_filled(slot: str, args: dict[str, Any], filled: dict[str, Any]) -> bool:
    head, _, sub = slot.partition(".")
    if sub:
        return isinstance(args.get(head), dict) and sub in args[head] and head in filled
    return slot in filled or (slot == "strategy_ids" and "latest_n" in filled)


# ---- context -------------------------------------------------------------------------------------------
def context_after(intent: str, args: dict[str, Any], result: dict[str, Any] | None) -> dict[str, Any]:
    """The ``last_*`` slots a successful tool call leaves for later references ("run it again")."""
    updates: dict[str, Any] = {"last_intent": intent}
    if intent == "run_backtest":
        updates["last_run"] = {
            k: args[k]
            for k in ("symbol", "strategy_config", "strategy_id", "start", "end", "settings")
            if args.get(k) is not None
        }
        if args.get("symbol"):
            updates["last_symbol"] = args["symbol"]
        # the period and settings of *this* run (None when it had none): never an older turn's
        updates["last_start"], updates["last_end"] = args.get("start"), args.get("end")
        updates["last_settings"] = args.get("settings")
        if args.get("strategy_config"):
            updates["last_strategy_config"] = args["strategy_config"]
            updates["last_strategy_id"] = None
        elif args.get("strategy_id") is not None:
            updates["last_strategy_id"] = args["strategy_id"]
            updates["last_strategy_config"] = None
        if result and result.get("id") is not None:
            updates["last_backtest_id"] = result["id"]
    elif intent in ("get_backtest", "cancel_backtest") and result and result.get("id") is not None:
        updates["last_backtest_id"] = result["id"]
        if result.get("symbol"):
            updates["last_symbol"] = result["symbol"]
    elif intent == "list_backtests" and result is not None:
        items = result.get("items") or result.get("backtests") or []
        updates["last_list_ids"] = [
            item.get("id") for item in items if isinstance(item, dict) and item.get("id")
        ]
    elif intent == "create_strategy" and result and result.get("id") is not None:
        updates["last_strategy_id"] = result["id"]
        updates["last_strategy_config"] = None
    elif intent == "compare_strategies":
        # "my last 3 strategies" is resolved by the tool: the ids compared are in its result.
        ids = (result or {}).get("strategy_ids") or args.get("strategy_ids")
        if ids:
            updates["last_strategy_ids"] = list(ids)
        symbol = (result or {}).get("symbol")
        if symbol:
            updates["last_symbol"] = symbol
    elif intent == "market_data" and args.get("symbol"):
        updates["last_symbol"] = args["symbol"]
    return updates
