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
  });
});
