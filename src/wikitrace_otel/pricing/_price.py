"""The price of one model, and the arithmetic that turns a call's token counts into dollars."""

from __future__ import annotations

from dataclasses import dataclass, field

_PER_MILLION = 1_000_000


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """What one model costs, in USD per million tokens, resolved once and then used for every call.

    A rate left as ``None`` is charged like its parent: cache reads and cache writes at the
    ``input`` rate, reasoning at the ``output`` rate (this is how genai-prices counts them too).

    Attributes:
        input: USD per million uncached input tokens.
        output: USD per million output tokens.
        cache_read: USD per million input tokens read from the provider's prompt cache.
        cache_write: USD per million input tokens written to the prompt cache.
        reasoning: USD per million reasoning tokens, for the rare model that prices them apart
            from other output.
        per_request: USD charged per call on top of tokens (Perplexity's request fee).
        tiers: ``(start, price)`` pairs: when a call has more than ``start`` input tokens, all
            of its tokens are charged at ``price`` (the "cliff" model Anthropic, Google and
            OpenAI use for long prompts). Sorted by ``start``.
        source: ``"genai-prices"`` or ``"override"``.
        matched: what the price was found under, e.g. ``"openai/gpt-4o"``; for debugging.
    """

    input: float
    output: float
    cache_read: float | None = None
    cache_write: float | None = None
    reasoning: float | None = None
    per_request: float = 0.0
    tiers: tuple[tuple[int, ModelPrice], ...] = ()
    source: str = "override"
    matched: str = ""
    _rates: tuple[float, float, float, float, float, float] = field(init=False, repr=False, compare=False)
    _tier_rates: tuple[tuple[int, tuple[float, ...]], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Resolve the defaults and the tier order once, so cost() is arithmetic only.
        object.__setattr__(self, "_rates", self._own_rates())
        ordered = sorted(self.tiers, key=lambda tier: tier[0], reverse=True)
        object.__setattr__(self, "_tier_rates", tuple((start, price._own_rates()) for start, price in ordered))

    def _own_rates(self) -> tuple[float, float, float, float, float, float]:
        return (
            self.input,
            self.output,
            self.input if self.cache_read is None else self.cache_read,
            self.input if self.cache_write is None else self.cache_write,
            self.output if self.reasoning is None else self.reasoning,
            self.per_request,
        )

    def cost(
        self,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cache_read: int = 0,
        cache_write: int = 0,
        reasoning: int = 0,
    ) -> float:
        """The USD cost of one call. Pure arithmetic: no lookup, no allocation beyond floats.

        Counts follow the GenAI conventions: ``input_tokens`` includes the cached tokens, so
        the uncached input is ``input_tokens - cache_read - cache_write``; ``output_tokens``
        includes ``reasoning``.

        Some emitters report Anthropic's raw ``input_tokens``, which leaves the cached tokens
        out. When the cached tokens exceed ``input_tokens`` that must be the case, and the
        whole of ``input_tokens`` is charged as uncached. The same holds for reasoning larger
        than ``output_tokens`` (Gemini reports its thoughts apart from the answer).

        Args:
            input_tokens: input tokens, cached ones included.
            output_tokens: output tokens, reasoning included.
            cache_read: input tokens read from the prompt cache.
            cache_write: input tokens written to the prompt cache.
            reasoning: output tokens spent on reasoning.

        Returns:
            The cost in USD. The tier is chosen by the call's whole input.
        """
        uncached = input_tokens - cache_read - cache_write
        if uncached < 0:
            uncached = input_tokens
            input_tokens += cache_read + cache_write
        visible = output_tokens - reasoning
        if visible < 0:
            visible = output_tokens
        rates = self._rates
        for start, tier_rates in self._tier_rates:
            if input_tokens > start:
                rates = tier_rates
                break
        i, o, cr, cw, r, request = rates
        tokens = uncached * i + cache_read * cr + cache_write * cw + visible * o + reasoning * r
        return tokens / _PER_MILLION + request
