// Loading and feeding the vision sample's model.tflite on Android (LiteRT), with the
// preprocessing edgeq calibrated it with (edgeq.yaml: the zoo's mobilenet-v2 images):
// shorter side to 256, centre crop 224x224, RGB, x/255, then (x - mean) / std per channel.
// The artifact takes float32 NHWC [1, 224, 224, 3] (manifest.json "inputs") and returns
// logits [1, 1000]; quantize/dequantize happen inside the model. Documented, not compiled here.
import android.content.Context
import android.graphics.Bitmap
import org.tensorflow.lite.Interpreter
import java.io.FileInputStream
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.nio.channels.FileChannel

class Classifier(context: Context) {
    private val interpreter = context.assets.openFd("model.tflite").use { fd ->
        val model = FileInputStream(fd.fileDescriptor).channel
            .map(FileChannel.MapMode.READ_ONLY, fd.startOffset, fd.declaredLength)
        Interpreter(model, Interpreter.Options().setNumThreads(1))
    }
    private val mean = floatArrayOf(0.485f, 0.456f, 0.406f)
    private val std = floatArrayOf(0.229f, 0.224f, 0.225f)

    fun classify(photo: Bitmap): FloatArray {
        val scale = 256f / minOf(photo.width, photo.height)
        val resized = Bitmap.createScaledBitmap(photo, (photo.width * scale).toInt(), (photo.height * scale).toInt(), true)
        val crop = Bitmap.createBitmap(resized, (resized.width - 224) / 2, (resized.height - 224) / 2, 224, 224)
        val input = ByteBuffer.allocateDirect(4 * 224 * 224 * 3).order(ByteOrder.nativeOrder())
        val pixels = IntArray(224 * 224).also { crop.getPixels(it, 0, 224, 0, 0, 224, 224) }
        for (p in pixels) {                                   // NHWC: channels last
            val rgb = floatArrayOf(((p shr 16) and 0xFF) / 255f, ((p shr 8) and 0xFF) / 255f, (p and 0xFF) / 255f)
            for (c in 0..2) input.putFloat((rgb[c] - mean[c]) / std[c])
        }
        val logits = Array(1) { FloatArray(1000) }
        interpreter.run(input.rewind(), logits)
        return logits[0]
    }
}
