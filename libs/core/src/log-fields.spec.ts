import { idsInMessage } from './log-fields';

describe('idsInMessage', () => {
  it('finds room, participant, identity, recording and job ids in the messages the code writes', () => {
    expect(idsInMessage('[room standup] publisher 1b4e28ba-2fa1-11d2-883f-0016d3cca427 (alice) disconnected for 5000 ms')).toEqual({
      room: 'standup',
      participantId: '1b4e28ba-2fa1-11d2-883f-0016d3cca427',
      identity: 'alice',
    });
    expect(idsInMessage('[recording rec_0123456789abcdef room weekly] active')).toEqual({ room: 'weekly', recordingId: 'rec_0123456789abcdef' });
    expect(idsInMessage('recording job rec_0123456789abcdef failed: boom')).toEqual({ recordingId: 'rec_0123456789abcdef', jobId: 'rec_0123456789abcdef' });
    expect(idsInMessage('POST /v1/rooms/demo/whip → 403 forbidden: nope')).toEqual({ room: 'demo' });
    expect(idsInMessage('MCU listening on http://127.0.0.1:3000')).toEqual({});
    expect(idsInMessage('room demo created (1280x720@30, h264 1500 kbps)')).toEqual({ room: 'demo' });
    expect(idsInMessage('room "demo" not found')).toEqual({ room: 'demo' });
    expect(idsInMessage('[hls room demo] started')).toEqual({ room: 'demo' });
    expect(idsInMessage('events client alice of room demo disconnected: too slow')).toEqual({ room: 'demo' });
  });

  it('does not take words of plain prose for ids', () => {
    expect(idsInMessage('the recording failed: room not found')).toEqual({});
    expect(idsInMessage('no media from the room for 10 s')).toEqual({});
    expect(idsInMessage('webhook job failed')).toEqual({});
    expect(idsInMessage('a room is full')).toEqual({});
  });
});
