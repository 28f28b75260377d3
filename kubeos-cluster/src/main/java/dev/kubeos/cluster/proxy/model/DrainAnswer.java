package dev.kubeos.cluster.proxy.model;

/**
 * The operator's answer to the proxy's {@link Phase#DRAINING} ({@code OSInstance.status.drain}),
 * only when it answers the phase as recorded (same {@code phasetime}): an answer to an earlier
 * attempt is no answer.
 *
 * @param drained every pod the drain evicts is gone; false: the drain refused to start or timed out
 * @param message what the drain did, or which pods blocked it and why
 */
public record DrainAnswer(boolean drained, String message) {}
