package io.jmpio.core;

/** The device suite over the array's own protocol (ALUA port groups; paths "A0".."B1"). */
class ArrayTransportDeviceTest extends MultipathDeviceTest {
    @Override
    MultipathConfig config() {
        return Fixture.deviceConfig(array);
    }

    @Override
    String arrayPort(String controller, int index) {
        return Fixture.port(array, controller, index);
    }

    @Override
    String unknownTargetMessage() {
        return "LUN 'nope' not found (this host sees: lun0)";
    }
}
