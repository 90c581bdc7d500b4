// Feeding the speech sample's model.tflite on Android (LiteRT) as edgeq calibrated it
// (edgeq.yaml: the zoo's silero-vad audio): 16 kHz mono float samples in [-1, 1], 32
// frames of 576 samples (512 new + 64 of context) per call as "input" [32, 576], the LSTM
// state "h" and "c" [1, 1, 128] carried from one call's "hn"/"cn" outputs to the next,
// zero at the start of a stream. "speech_probs" [32] is the probability of speech per
// 32 ms frame; speech where it reaches 0.5. Documented, not compiled here.
import org.tensorflow.lite.Interpreter
import java.nio.ByteBuffer

class VoiceActivity(model: ByteBuffer) {
    private val interpreter = Interpreter(model, Interpreter.Options().setNumThreads(1))
    private var h = Array(1) { Array(1) { FloatArray(128) } }
    private var c = Array(1) { Array(1) { FloatArray(128) } }

    /** `frames`: 32 windows of 576 samples, each starting 512 samples after the previous one. */
    fun speech(frames: Array<FloatArray>): BooleanArray {
        val probs = FloatArray(32)
        val hn = Array(1) { Array(1) { FloatArray(128) } }
        val cn = Array(1) { Array(1) { FloatArray(128) } }
        val inputs = arrayOf<Any>(frames, h, c)             // order of manifest.json "inputs"
        interpreter.runForMultipleInputsOutputs(inputs, mapOf(0 to probs, 1 to hn, 2 to cn))
        h = hn; c = cn
        return BooleanArray(32) { probs[it] >= 0.5f }
    }
}
