/**
 * The array protocol spoken on every front-end port of the emulator: the frame header layout
 * ({@link io.jmpio.emu.protocol.FrameHeader}), opcodes, statuses with sense detail, the payload layouts
 * (one class each), a Netty codec, and an asynchronous client. The layout is documented in
 * {@code docs/protocol.md}; each class here mirrors one frame or payload type of that document.
 */
package io.jmpio.emu.protocol;
